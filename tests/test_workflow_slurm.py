"""The pipeline on a real SLURM cluster (profiles/slurm): every job a SLURM job, the bytes of a
local run, a failing step's error where the user looks, and nothing resubmitted. The run
itself starts with the session, beside the other tests (conftest.py, `slurm_pipeline`)."""

import re
import shutil

import pytest

from conftest import SLURM_RUN, flip_byte, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]
# What differs from run to run by design: the jobs' logs (the SLURM job each ran as) and their
# timings.
PER_RUN = ("results/logs", "results/benchmarks")


def results(workdir):
    """Every file of results/ but the logs and timings, by path, as bytes."""
    return {
        str(path.relative_to(workdir)): path.read_bytes()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file()
        and not path.name.startswith(".")  # Snakemake's marks in the folders it made
        and not str(path.relative_to(workdir)).startswith(PER_RUN)
    }


def test_every_job_ran_as_a_slurm_job(slurm_pipeline, pipeline):
    logs = sorted((slurm_pipeline / "results" / "logs").rglob("*.log"))
    terminal = (slurm_pipeline / "run.terminal").read_text()
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", terminal)
    local_jobs = list((pipeline / "results" / "logs").rglob("*.log"))
    assert len(logs) == len(submitted) == len(local_jobs) > 0
    ran_as = set()
    for log in logs:
        first = log.read_text().splitlines()[0]
        found = re.fullmatch(r"[\w ]+: running as SLURM job (\d+)", first)
        assert found, (log, first)
        ran_as.add(found[1])
    assert ran_as == set(submitted)


def test_the_results_are_the_bytes_of_a_local_run(slurm_pipeline, pipeline):
    ours, local = results(slurm_pipeline), results(pipeline)
    assert list(ours) == list(local)
    assert ours == local


def test_a_second_run_submits_nothing(slurm_pipeline):
    again = snakemake(slurm_pipeline, *SLURM_RUN)
    said = again.stdout + again.stderr
    assert "Nothing to be done" in said and "submitted" not in said


def test_a_failing_step_fails_the_run_with_its_error_and_its_log(slurm_pipeline, tmp_path):
    workdir = tmp_path / "project"
    shutil.copytree(slurm_pipeline, workdir)
    data = workdir / "results" / "checkpoint" / "model.ckpt.data-00000-of-00001"
    flip_byte(data)
    failed = snakemake(workdir, "results/values/seed", *SLURM_RUN, "-R", "restore", check=False)
    said = failed.stdout + failed.stderr
    assert failed.returncode != 0
    error = f"error: {data.relative_to(workdir)}: checksum mismatch (the file is damaged)"
    assert error in said
    assert "the failed steps' logs: results/logs/restore/seed.log" in said
    assert (workdir / "results/logs/restore/seed.log").read_text().splitlines()[-1] == error
