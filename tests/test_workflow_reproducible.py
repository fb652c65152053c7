"""The same config gives the same bytes: across clean runs, core counts and interruptions."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ckptorder import checkpoint_files, entries, orderings, step_settings
from ckptorder.values import INFERENCE, Values
from conftest import copy_project, sigint_handled, snakemake

pytestmark = pytest.mark.workflow

COMPARED = [
    "results/report.csv",
    "results/variables.csv",
    "results/checkpoint/model.ckpt.index",
    "results/checkpoint/model.ckpt.data-00000-of-00001",
    "results/inference.csv",
]
# Every file in these: the slices, every values folder and every export.
COMPARED_FOLDERS = [
    *("results/slices", "results/values"),
    *(f"results/{format_}" for format_ in orderings.EXPORTED_FORMATS),
]


def result_bytes(workdir):
    paths = [workdir / p for p in COMPARED]
    for folder in COMPARED_FOLDERS:
        # Leaving out Snakemake's own marks (.snakemake_timestamp) in folders it made.
        paths += sorted(
            p for p in (workdir / folder).rglob("*") if p.is_file() and not p.name.startswith(".")
        )
    return {str(p.relative_to(workdir)): p.read_bytes() for p in paths}


def test_a_clean_run_on_one_core_gives_the_same_bytes(pipeline, tmp_path, config):
    workdir = copy_project(tmp_path / "project")
    snakemake(workdir, "--cores", "1")
    ours, theirs = result_bytes(workdir), result_bytes(pipeline)
    values = [path for path in ours if path.startswith("results/values/")]
    # Each state's values file, graph.json and inference.json, for each format, and
    # object_ckpt's assertions.json.
    states = sum(len(orderings.states(c["orderings"])) for c in config["checkpoints"])
    assert len(values) == states + 2 * len(config["checkpoints"]) + 1
    assert ours == theirs


def start_run(workdir):
    """`snakemake --cores 4` in its own process group, as a terminal would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "4"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=sigint_handled,
    )


def started(workdir, rule):
    """Whether a job of `rule` has started (its log exists)."""
    logs = workdir / "results" / "logs"
    return any([*logs.glob(f"{rule}.log"), *logs.glob(f"{rule}/*.log")])


# A point of a run: the moment a job of that kind has started.
POINTS = {
    "build": lambda workdir: started(workdir, "build"),
    "restore": lambda workdir: started(workdir, "restore"),
    "extract": lambda workdir: started(workdir, "extract"),
}


def wait_for(workdir, run, point):
    deadline = time.monotonic() + 120
    while not POINTS[point](workdir):
        assert run.poll() is None, f"the run ended before {point} started"
        assert time.monotonic() < deadline, f"{point} did not start in 120 s"
        time.sleep(0.02)


def assert_no_output_is_half_written(workdir):
    """Every output at its final name is whole: values files read, CSVs parse."""
    for path in (workdir / "results" / "values" / "seed").glob("*.npz"):
        with Values(path) as values:
            assert values.names
    for path in (workdir / "results" / "slices").glob("*.csv"):
        assert list(pd.read_csv(path).columns) == ["state", "tensor", "slice", "index", "value"]


def wait_until_its_jobs_end(run):
    """Wait until no process of the run's group is left: jobs go on when Snakemake is killed."""
    deadline = time.monotonic() + 120
    while True:
        try:
            os.killpg(run.pid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "the run's jobs did not end in 120 s"
        time.sleep(0.05)


def crash(run):
    """kill -9 of Snakemake alone (a crash, the OOM killer): its running jobs finish their
    outputs, which keep Snakemake's "incomplete" mark, and its lock stays."""
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    wait_until_its_jobs_end(run)


@pytest.mark.parametrize(
    ("stop", "point"),
    # Each way a run is stopped, and each kind of job running (a run from scratch each: the
    # slowest tests). A signal to the process group is what a terminal sends on Ctrl-C, and
    # what `kill -TERM -PGID` sends: Snakemake and its jobs, cut short, get it.
    [("SIGINT", "restore"), ("SIGTERM", "extract"), ("crash", "build")],
)
def test_an_interrupted_run_recovers_as_the_readme_says(pipeline, tmp_path, stop, point):
    workdir = copy_project(tmp_path / "project")
    run = start_run(workdir)
    wait_for(workdir, run, point)
    if stop == "crash":
        crash(run)
        # build finished after Snakemake had died: the state a plain rerun used to refuse.
        prefix = workdir / entries.BUILT_PREFIX
        assert all(Path(f"{prefix}{suffix}").exists() for suffix in checkpoint_files.SUFFIXES)
    else:
        os.killpg(run.pid, getattr(signal, stop))
        assert run.wait(timeout=120) != 0
    assert not (workdir / "results" / "report.csv").exists()
    assert_no_output_is_half_written(workdir)
    if stop == "crash":
        refused = snakemake(workdir, "--cores", "4", check=False)
        assert refused.returncode != 0 and "--unlock" in refused.stdout + refused.stderr
        snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "4")
    assert result_bytes(workdir) == result_bytes(pipeline)


def test_one_restore_job_equals_one_process_per_ordering(pipeline, tmp_path, seed_entry):
    """restore runs every ordering of a checkpoint in one process, each in a fresh graph and
    session: its files are byte-identical to those of a process per ordering."""
    prefix = pipeline / "results" / "checkpoint" / "model.ckpt"
    runs = {}
    for ordering in seed_entry["orderings"]:
        settings = {
            **json.loads(step_settings.restore_settings(seed_entry)),
            "orderings": [ordering],
        }
        output = tmp_path / ordering
        command = [
            *(sys.executable, "scripts/restore.py", "--settings", json.dumps(settings)),
            *("--checkpoint", str(prefix), "--output", str(output)),
            *("--inference", str(prefix.with_name("inference.npz"))),
        ]
        runs[ordering] = subprocess.Popen(
            command,
            cwd=pipeline,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    together = pipeline / "results" / "values" / "seed"
    for ordering, run in runs.items():
        assert run.wait(timeout=300) == 0, ordering
        for name in ("saved.npz", "initial.npz", f"{ordering}.npz"):
            alone = (tmp_path / ordering / name).read_bytes()
            assert alone == (together / name).read_bytes(), (ordering, name)
        checks = (json.loads((f / INFERENCE).read_text()) for f in (tmp_path / ordering, together))
        alone, all_of_them = checks
        assert alone == {ordering: all_of_them[ordering]}
