"""The same config gives the same bytes: across clean runs, core counts and interruptions."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import copy_project, snakemake
from values import Values

COMPARED = [
    "results/report.csv",
    "results/variables.csv",
    "results/checkpoint/model.ckpt.index",
    "results/checkpoint/model.ckpt.data-00000-of-00001",
]


def result_bytes(workdir):
    paths = [workdir / p for p in COMPARED]
    paths += sorted((workdir / "results" / "slices").glob("*.csv"))
    paths += sorted((workdir / "results" / "values").glob("*.npz"))
    return {str(p.relative_to(workdir)): p.read_bytes() for p in paths}


def test_a_clean_run_on_one_core_gives_the_same_bytes(pipeline, tmp_path):
    workdir = copy_project(tmp_path / "project")
    snakemake(workdir, "--cores", "1")
    ours, theirs = result_bytes(workdir), result_bytes(pipeline)
    assert len(ours) == 4 + 9 + 9
    assert ours == theirs


def start_run(workdir):
    """`snakemake --cores 4` in its own process group, as a terminal would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "4"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_restore_jobs(workdir, run):
    """Until the first restore job has started (its log exists) while build's values exist."""
    deadline = time.monotonic() + 120
    logs = workdir / "results" / "logs" / "restore"
    while not (logs.exists() and any(logs.iterdir())):
        assert run.poll() is None, "the run ended before any restore job started"
        assert time.monotonic() < deadline, "no restore job started in 120 s"
        time.sleep(0.05)


def assert_no_output_is_half_written(workdir):
    """Every output at its final name is whole: values files read, CSVs parse."""
    for path in (workdir / "results" / "values").glob("*.npz"):
        with Values(path) as values:
            assert values.names
    for path in (workdir / "results" / "slices").glob("*.csv"):
        assert list(pd.read_csv(path).columns) == ["state", "tensor", "slice", "index", "value"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_completes_on_a_plain_rerun(pipeline, tmp_path, signum):
    workdir = copy_project(tmp_path / "project")
    run = start_run(workdir)
    wait_for_restore_jobs(workdir, run)
    os.killpg(run.pid, signum)
    assert run.wait(timeout=120) != 0
    assert not (workdir / "results" / "report.csv").exists()
    assert_no_output_is_half_written(workdir)
    snakemake(workdir, "--cores", "4")
    assert result_bytes(workdir) == result_bytes(pipeline)


def test_a_killed_run_recovers_as_the_readme_says(pipeline, tmp_path):
    workdir = copy_project(tmp_path / "project")
    run = start_run(workdir)
    wait_for_restore_jobs(workdir, run)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    assert_no_output_is_half_written(workdir)
    locked = snakemake(workdir, "--cores", "4", check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "4", "--rerun-incomplete")
    assert result_bytes(workdir) == result_bytes(pipeline)
