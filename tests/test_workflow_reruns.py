"""After a complete run, each change makes exactly the jobs it touches run again.

Each case copies the finished session run (outputs, mtimes and Snakemake's metadata), makes
one change, counts the jobs per rule that a dry run plans, then runs for real and checks the
report. A full rerun of the default config is build; the restore of its checkpoint, the export
and load of its other two formats; an extract and two figures for each of the three; report
and verify. A real full rerun is a clean
run under another config; it costs most of this file's time, so it is done for the cases in
FULL_RUNS_CHECKED and the others stop at the dry run.
"""

import os
import re
import shutil
import time

import pandas as pd
import pytest
import yaml

from ckptorder import configuration, orderings
from ckptorder.formats import ckpt
from ckptorder.orderings import ordering_of
from conftest import snakemake

pytestmark = pytest.mark.workflow
# The ordering these cases remove, add back and override.
INIT_ONLY = ordering_of("initialize_all")

# The built model in each format: each its extract and figures.
AUDITED = len(orderings.FORMATS)
FIGURES = {"probes_figure": AUDITED, "outcomes_figure": AUDITED}
# What follows the report; the probes figure follows the slices alone.
REPORT = {"report": 1, "verify": 1, "outcomes_figure": AUDITED}
NEW_PROBES = {"extract": AUDITED, **REPORT, "probes_figure": AUDITED}
# One restore job runs every ordering of a checkpoint: a change to any of them reruns it, and
# what reads its values, not the other formats' jobs.
RESTORE = {"restore": 1, "extract": 1, "probes_figure": 1, **REPORT}
# The other formats' jobs, and what reads their values.
OTHERS = AUDITED - 1
FORMATS = {"export": OTHERS, "load": OTHERS, "extract": OTHERS, "probes_figure": OTHERS, **REPORT}
ALL_BUT_BUILD = {**NEW_PROBES, "restore": 1, "export": OTHERS, "load": OTHERS}
ALL_BUT_FROZEN = [format_ for format_ in orderings.FORMATS if format_ != "frozen_pb"]
EVERYTHING = {"build": 1, **ALL_BUT_BUILD}


def edit_config(workdir, change):
    path = workdir / "config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def append_comment(workdir, path):
    with open(workdir / path, "a") as handle:
        handle.write("# an edit that changes nothing but the bytes\n")


def touch_everything(workdir):
    later = time.time() + 60
    for path in [*workdir.glob("scripts/**/*.py"), workdir / "config.yaml", workdir / "Snakefile"]:
        os.utime(path, (later, later))


def remove_ordering(config):
    config["orderings"] = [o for o in ckpt.BUILT_ORDERINGS if o != INIT_ONLY]


def add_back_ordering(workdir):
    """As if INIT_ONLY had never run: drop it, run, then add it back."""
    edit_config(workdir, remove_ordering)
    snakemake(workdir, "--cores", "4")
    edit_config(workdir, lambda c: c["orderings"].append(INIT_ONLY))


def add_back_format(workdir):
    """As if frozen_pb had never been audited: drop it and its results, run, then add it
    back. (Dropped alone, its results stay and are still current: adding it back then reruns
    only what reads them all.)"""
    edit_config(workdir, lambda c: c.__setitem__("formats", ALL_BUT_FROZEN))
    results = workdir / "results"
    for folder in ("frozen_pb", "values/seed.frozen_pb", "figures/seed.frozen_pb"):
        shutil.rmtree(results / folder)
    (results / "slices" / "seed.frozen_pb.csv").unlink()
    snakemake(workdir, "--cores", "4")
    edit_config(workdir, lambda c: c.__setitem__("formats", "all"))


def set_train(key, value):
    return lambda workdir: edit_config(workdir, lambda c: c["train"].__setitem__(key, value))


def fake_tensorflow_version(workdir):
    """Metadata of another TensorFlow version ahead on the path: what an upgrade changes for
    the Snakefile, which reads the version without importing TensorFlow."""
    dist = workdir.parent / "fake-dist" / "tensorflow-99.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorflow\nVersion: 99.0.0\n")
    return {"PYTHONPATH": str(dist.parent)}


CASES = {
    "nothing": (lambda w: None, {}),
    "slice changed": (
        lambda w: edit_config(w, lambda c: c["probes"][1].__setitem__("slice", "[0, ..., 2]")),
        NEW_PROBES,
    ),
    "probe added, tensor already probed": (
        lambda w: edit_config(
            w, lambda c: c["probes"].append({"tensor": "conv_3/kernel", "slice": "[2]"})
        ),
        NEW_PROBES,
    ),
    "probe added, tensor not yet probed": (
        lambda w: edit_config(
            w, lambda c: c["probes"].append({"tensor": "conv_2/bias", "slice": "[::4]"})
        ),
        NEW_PROBES,
    ),
    "ordering added": (add_back_ordering, RESTORE),
    "ordering removed": (lambda w: edit_config(w, remove_ordering), RESTORE),
    "expected outcome changed": (
        lambda w: edit_config(w, lambda c: c.__setitem__("expected", {INIT_ONLY: "reinitialized"})),
        REPORT,
    ),
    # No TensorFlow job reruns: the limit is a resource; the report records the config.
    "time_limit changed": (
        lambda w: edit_config(w, lambda c: c.__setitem__("time_limit", 30)),
        REPORT,
    ),
    "trust changed": (
        lambda w: edit_config(w, lambda c: c.__setitem__("trust", True)),
        ALL_BUT_BUILD,
    ),
    "seed changed": (lambda w: edit_config(w, lambda c: c.__setitem__("seed", 7)), EVERYTHING),
    "train.steps changed": (set_train("steps", 2), EVERYTHING),
    "model.extra_layers changed": (
        lambda w: edit_config(w, lambda c: c["model"].__setitem__("extra_layers", [4])),
        EVERYTHING,
    ),
    "train.learning_rate changed": (set_train("learning_rate", 0.02), EVERYTHING),
    "train.batch_size changed": (set_train("batch_size", 2), EVERYTHING),
    "train.threads changed": (set_train("threads", 2), EVERYTHING),
    "build script edited": (lambda w: append_comment(w, "scripts/build.py"), EVERYTHING),
    "restore script edited": (
        lambda w: append_comment(w, "scripts/restore.py"),
        RESTORE,
    ),
    "export script edited": (lambda w: append_comment(w, "scripts/export.py"), FORMATS),
    "load script edited": (
        lambda w: append_comment(w, "scripts/load.py"),
        {k: v for k, v in FORMATS.items() if k != "export"},
    ),
    "a format removed": (
        lambda w: edit_config(w, lambda c: c.__setitem__("formats", ALL_BUT_FROZEN)),
        {**REPORT, "outcomes_figure": AUDITED - 1},
    ),
    "a format added": (
        add_back_format,
        {"export": 1, "load": 1, "extract": 1, "probes_figure": 1, **REPORT},
    ),
    "extract script edited": (lambda w: append_comment(w, "scripts/extract.py"), NEW_PROBES),
    "report script edited": (lambda w: append_comment(w, "scripts/report.py"), REPORT),
    "verify script edited": (lambda w: append_comment(w, "scripts/verify.py"), {"verify": 1}),
    "figures script edited": (lambda w: append_comment(w, "scripts/figures.py"), FIGURES),
    "shared module edited (orderings: every step)": (
        lambda w: append_comment(w, "scripts/ckptorder/orderings.py"),
        EVERYTHING,
    ),
    "shared module edited (slices, through slice_csv: extract, report, figures)": (
        lambda w: append_comment(w, "scripts/ckptorder/slices.py"),
        NEW_PROBES,
    ),
    "shared module edited (values: every step but verify)": (
        lambda w: append_comment(w, "scripts/ckptorder/values.py"),
        EVERYTHING,
    ),
    "the config check edited (no step imports it)": (
        lambda w: append_comment(w, "scripts/ckptorder/configuration.py"),
        {},
    ),
    "files touched, content unchanged": (touch_everything, {}),
    "tensorflow version changed": (fake_tensorflow_version, EVERYTHING),
}


# The cases whose run is checked too, not only its plan: those that change what the report
# holds, and other threads (the inference check's bits depend on them). The others append a
# comment, touch files or change what a clean run checks already.
RUNS_CHECKED = {
    "slice changed",
    "probe added, tensor not yet probed",
    "ordering added",
    "ordering removed",
    "expected outcome changed",
    "a format removed",
    "a format added",
    "train.threads changed",
}


# The longest a job's reason may be: a settings change names the job's settings file (a
# param would print the whole settings text, over 20,000 characters for the report).
REASON_WIDTH = 600


def planned_jobs(output):
    """Jobs per rule from the "Job stats" table of a dry run ("all" left out)."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", table, re.M))
    return {rule: int(n) for rule, n in counts.items() if rule != "all"}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_change_reruns_exactly_what_it_touches(pipeline, tmp_path, case):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)  # keeps mtimes and Snakemake's metadata
    change, expected = CASES[case]
    env = {**os.environ, **(change(workdir) or {})}
    # Each job's account, reason included, shown (the profile hides it: `quiet: [rules]`).
    dry = snakemake(workdir, "--cores", "4", "--dry-run", "--quiet", "host", env=env)
    assert planned_jobs(dry.stdout + dry.stderr) == expected
    reasons = [line for line in (dry.stdout + dry.stderr).splitlines() if "reason:" in line]
    assert len(reasons) == sum(expected.values()) + bool(expected), "a reason per job, all's"
    assert all(len(line) <= REASON_WIDTH for line in reasons), max(reasons, key=len)
    if case not in RUNS_CHECKED:
        return
    run = snakemake(workdir, "--cores", "4", env=env)
    assert ("Outcomes per checkpoint" in run.stdout) == ("verify" in expected), "last words"
    report = pd.read_csv(workdir / "results" / "report.csv")
    config = configuration.load(workdir / "config.yaml")
    checkpoint = report[report["format"] == "ckpt"]
    assert checkpoint["ordering"].unique().tolist() == config["checkpoints"][0]["orderings"]
    audited = sum(len(c["orderings"]) for c in config["checkpoints"])
    assert len(report) == audited * len(config["probes"])
    assert report["as_expected"].all()


def outside_copy(workdir, name):
    """A copy of the built checkpoint outside results/, as a user's own would be."""
    folder = workdir / "outside" / name
    folder.mkdir(parents=True)
    for path in (workdir / "results" / "checkpoint").glob("model.ckpt.*"):
        shutil.copy(path, folder / path.name)
    return f"outside/{name}/model.ckpt"


def test_a_checkpoint_added_changed_and_removed_reruns_its_own_jobs(pipeline, tmp_path):
    """Adding a checkpoint runs its jobs (its names check first) and what reads them (the
    report, so every outcomes figure); changing its files reruns its jobs; removing it reruns
    none of the others'."""
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    prefix = outside_copy(workdir, "mine")
    edit_config(
        workdir,
        lambda c: c["checkpoints"].append(
            {"name": "mine", "prefix": prefix}
            | {"probes": c["probes"], "partial_restore": c["partial_restore"]}
        ),
    )
    dry = snakemake(workdir, "--cores", "4", "--dry-run")
    added = {"names": 1, **RESTORE, "outcomes_figure": AUDITED + 1}
    assert planned_jobs(dry.stdout) == added
    run = snakemake(workdir, "--cores", "4")
    assert "reported, not judged (no expected): mine." in run.stdout
    report = pd.read_csv(workdir / "results" / "report.csv")
    assert report["checkpoint"].unique().tolist() == ["seed", "mine"]
    report = report[report["format"] == "ckpt"]
    mine, seed = (report[report["checkpoint"] == name] for name in ("mine", "seed"))
    # The same files audited as an outside checkpoint: the same outcomes, not judged.
    assert mine["outcome"].tolist() == seed["outcome"].tolist()
    assert mine["expected"].isna().all()

    (workdir / f"{prefix}.data-00000-of-00001").write_bytes(
        (workdir / "results/checkpoint/model.ckpt.data-00000-of-00001").read_bytes()[:-4]
        + b"\0" * 4
    )
    dry = snakemake(workdir, "--cores", "4", "--dry-run")
    assert planned_jobs(dry.stdout) == added

    edit_config(workdir, lambda c: c["checkpoints"].pop())
    dry = snakemake(workdir, "--cores", "4", "--dry-run")
    assert planned_jobs(dry.stdout) == REPORT
