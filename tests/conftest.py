"""Shared fixtures: a real pipeline run in a temporary copy of the project, once per session,
and a real checkpoint built in-process for the unit tests."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(
    ".git", ".snakemake", "results", "__pycache__", ".pytest_cache", ".venv", ".ruff_cache"
)
ORDERINGS = [
    "init_then_restore",
    "restore_then_init",
    "restore_only",
    "init_only",
    "restore_then_init_uninitialized",
    "partial_restore",
    "init_from_checkpoint",
]

# What every ordering but partial_restore leaves in every variable, as TensorFlow does it.
OUTCOMES = {
    "init_then_restore": "restored",
    "restore_then_init": "reinitialized",
    "restore_only": "restored",
    "init_only": "reinitialized",
    "restore_then_init_uninitialized": "restored",
    "init_from_checkpoint": "restored",
}


def copy_project(destination):
    shutil.copytree(PROJECT, destination, ignore=IGNORED)
    return destination


def snakemake(workdir, *args, check=True, **kwargs):
    """Run the real snakemake of this interpreter's environment in `workdir`."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """A project copy on which `snakemake --cores 4` has run to the end."""
    workdir = copy_project(tmp_path_factory.mktemp("run") / "project")
    result = snakemake(workdir, "--cores", "4")
    workdir.joinpath("run.stdout").write_text(result.stdout)
    return workdir


def run_restore(ordering, prefix, directory, output):
    """restore.py in-process on a checkpoint `prefix` and build's values in `directory`."""
    import restore

    restore.main(
        [
            "--settings",
            json.dumps({"ordering": ordering}),
            "--checkpoint",
            str(prefix),
            "--saved",
            str(directory / "saved.npz"),
            "--initial",
            str(directory / "initial.npz"),
            "--output",
            str(output),
        ]
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """build.py's outputs, made in-process with the default settings."""
    import build

    out = tmp_path_factory.mktemp("built")
    build.main(
        [
            "--checkpoint",
            str(out / "ckpt" / "model.ckpt"),
            "--initial",
            str(out / "initial.npz"),
            "--saved",
            str(out / "saved.npz"),
        ]
    )
    return out
