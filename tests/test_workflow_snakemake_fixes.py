"""The two fixes to Snakemake's own process (ckptorder/snakemake_fixes.py) still act on the
installed Snakemake: each fails here, rather than going silently idle, after an upgrade that
changes what it patches."""

import json

import pytest

from conftest import PROJECT, snakemake

pytestmark = pytest.mark.workflow

SNAKEFILE = f"""
import json, sys
sys.path.insert(0, {str(PROJECT / "scripts")!r})
from ckptorder.snakemake_fixes import cancel_rescheduling_timers, handle_sigterm_in_a_thread

found = {{}}


onstart:
    handler = handle_sigterm_in_a_thread()
    found["sigterm handler"] = getattr(handler, "__module__", None)


onsuccess:
    found["timers cancelled"] = cancel_rescheduling_timers()
    with open("found.json", "w") as handle:
        json.dump(found, handle)


rule one:
    output:
        "x",
    shell:
        "touch {{output}}"
"""


def test_both_fixes_find_what_they_patch(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    snakemake(tmp_path, "--cores", "1")
    found = json.loads((tmp_path / "found.json").read_text())
    # Snakemake's own SIGTERM handler, now run in a thread of its own.
    assert found["sigterm handler"].startswith("snakemake"), found
    # At least the timer armed when the job started was still pending at the end.
    assert found["timers cancelled"] >= 1, found
