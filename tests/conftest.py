"""Shared fixtures: the default config, a real checkpoint built for the fast tests,
and, for the tests marked `workflow`, a real pipeline run in a temporary copy of the project,
once per session."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ckptorder import configuration

PROJECT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(
    ".git", ".snakemake", "results", "__pycache__", ".pytest_cache", ".venv", ".ruff_cache"
)


@pytest.fixture(scope="session")
def config():
    """config.yaml, checked and made whole, as the Snakefile sees it."""
    return configuration.load(PROJECT / "config.yaml")


def copy_project(destination):
    shutil.copytree(PROJECT, destination, ignore=IGNORED)
    return destination


def snakemake(workdir, *args, check=True, **kwargs):
    """Run the real snakemake of this interpreter's environment in `workdir`; its output
    captured (stderr=subprocess.STDOUT: as one stream, in the order a terminal shows it)."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        text=True,
        **{**streams, **kwargs},
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
    result = snakemake(workdir, "--cores", "4", stderr=subprocess.STDOUT)
    workdir.joinpath("run.terminal").write_text(result.stdout)
    return workdir


# report.py's outputs, each an option of its own.
REPORT_OUTPUTS = ("report", "variables", "compatibility", "trajectory", "inference", "provenance")


def run_restore(settings, prefix, output, graph=None, inference=None):
    """restore.py in-process with `settings` (its --settings value) on the checkpoint
    `prefix`, writing its values files into the folder `output`; `inference`: build's
    reference, for settings that name the output tensor."""
    import restore

    restore.main(
        ["--settings", settings, "--checkpoint", str(prefix), "--output", str(output)]
        + (["--graph", str(graph)] if graph else [])
        + (["--inference", str(inference)] if inference else [])
    )
    return output


def run_build(settings, directory, check=True):
    """build.py with `settings`, writing `directory`/ckpt/model.ckpt and its inference
    reference `directory`/ckpt/inference.npz, in a process of its own: it turns on
    TensorFlow's op determinism for the whole process. Returns the finished process; raises
    with its stderr if it fails and `check`."""
    prefix, inference = directory / "ckpt" / "model.ckpt", directory / "ckpt" / "inference.npz"
    command = [sys.executable, PROJECT / "scripts" / "build.py", "--settings", settings]
    command += ["--checkpoint", prefix, "--inference", inference]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and finished.returncode:
        raise AssertionError(f"build.py failed:\n{finished.stderr}")
    return finished


@pytest.fixture(scope="session")
def built(tmp_path_factory, config):
    """build.py's outputs with the default config's settings."""
    directory = tmp_path_factory.mktemp("built")
    run_build(configuration.build_settings(config), directory)
    return directory


@pytest.fixture(scope="session")
def seed_entry(config):
    """The default config's built checkpoint, every setting filled in."""
    return next(entry for entry in config["checkpoints"] if entry["built"])


@pytest.fixture(scope="session")
def audited(built, seed_entry):
    """restore.py's folder of values files for the built checkpoint, every ordering."""
    return run_restore(
        configuration.restore_settings(seed_entry),
        built / "ckpt" / "model.ckpt",
        built / "values",
        inference=built / "ckpt" / "inference.npz",
    )


def add_a_write_to_an_initializer(meta, target):
    """The pipeline's own graph with a WriteFile of `target` made a control input of conv_1's
    kernel initializer: what a crafted `.meta` file can hold."""
    from ckptorder.tfsession import tf

    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(str(meta))
        write = tf.io.write_file(str(target), "written", name="crafted_write")
        graph.get_operation_by_name("conv_1/kernel/Assign")._add_control_input(write)
        tf.compat.v1.train.export_meta_graph(str(meta))
