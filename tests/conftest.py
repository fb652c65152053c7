"""Shared fixtures: the default config, a real checkpoint built for the fast tests,
and, for the tests marked `workflow`, a real pipeline run in a temporary copy of the project,
once per session."""

import concurrent.futures
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from ckptorder import configuration, step_settings

PROJECT = Path(__file__).resolve().parent.parent
# Every step: each is a script of its own in scripts/.
STEPS = sorted(path.stem for path in (PROJECT / "scripts").glob("*.py"))
IGNORED = shutil.ignore_patterns(
    ".git", ".snakemake", "results", "__pycache__", ".pytest_cache", ".venv", ".ruff_cache"
)


def project_config():
    """config.yaml, unchecked, as the tests own it: its settings, and of `checkpoints` the
    built model's entry alone (a user's own entries are theirs, not the tests')."""
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    config["checkpoints"] = [entry for entry in config["checkpoints"] if entry.get("build")]
    return config


@pytest.fixture(scope="session")
def config():
    """`project_config`, checked and made whole, as the Snakefile sees it."""
    return configuration.checked(project_config())


def copy_project(destination):
    """A copy of the project whose config.yaml is `project_config`'s (the file itself where
    the user added no entry)."""
    shutil.copytree(PROJECT, destination, ignore=IGNORED)
    owned = project_config()
    if owned["checkpoints"] != yaml.safe_load((PROJECT / "config.yaml").read_text())["checkpoints"]:
        (destination / "config.yaml").write_text(yaml.safe_dump(owned, sort_keys=False))
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


# How the tests run the pipeline on the SLURM cluster tests/slurm/start_cluster.sh starts: it
# has no accounting (sacct fails, squeue works) and the jobs take seconds, not minutes.
SLURM_RUN = [
    *("--profile", "profiles/slurm", "--slurm-status-command", "squeue"),
    *("--slurm-init-seconds-before-status-checks", "2"),
]
# Set by .ci/run: there, a SLURM test that would skip fails instead.
SLURM_REQUIRED = os.environ.get("CKPTORDER_REQUIRE_SLURM") == "1"


def slurm_problem():
    """Why the pipeline can't run on SLURM here, or None."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "no SLURM executor plugin: pip install -r requirements-slurm.txt"
    if shutil.which("sinfo") is None:
        return "no SLURM cluster (sinfo not found): tests/slurm/start_cluster.sh starts one"
    nodes = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if nodes.returncode or not {"idle", "mixed", "allocated"} & set(nodes.stdout.split()):
        return f"the SLURM cluster has no node up: {(nodes.stderr or nodes.stdout).strip()}"
    return None


def pytest_collection_finish(session):
    """Start the pipeline on SLURM in the background as soon as a test that reads it is
    selected: its jobs mostly wait for the scheduler, so it runs beside the other tests."""
    if not any(item.get_closest_marker("slurm") for item in session.items) or slurm_problem():
        return
    workdir = copy_project(Path(tempfile.mkdtemp(prefix="slurm-run-")) / "project")
    terminal = open(workdir / "run.terminal", "w")  # noqa: SIM115 (closed at the session's end)
    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *SLURM_RUN],
        cwd=workdir,
        stdout=terminal,
        stderr=subprocess.STDOUT,
        preexec_fn=sigint_handled,
    )
    session.config.stash[SLURM_KEY] = workdir, run, terminal


SLURM_KEY = pytest.StashKey()


def sigint_handled():
    """SIGINT's default action in a child, as in a terminal's, even when these tests run as a
    background job (`cmd &` makes SIGINT ignored, and every child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pytest_sessionfinish(session):
    """Stop a SLURM run the tests left (SIGINT: on SIGTERM it waits for its jobs) and remove
    its copy of the project."""
    if SLURM_KEY not in session.config.stash:
        return
    workdir, run, terminal = session.config.stash[SLURM_KEY]
    if run.poll() is None:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=120)
    terminal.close()
    shutil.rmtree(workdir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def slurm_pipeline(request):
    """The project copy on which `snakemake --profile profiles/slurm` has run to the end, on the
    cluster this machine runs (skipped where there is none, failed where CI requires one)."""
    problem = slurm_problem()
    if problem:
        (pytest.fail if SLURM_REQUIRED else pytest.skip)(problem)
    workdir, run, _ = request.config.stash[SLURM_KEY]
    returncode = run.wait(timeout=1800)
    assert returncode == 0, (workdir / "run.terminal").read_text()
    return workdir


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


def write_kinds(writer, targets):
    """Run the tests' script `writer` (KIND TARGET) for each kind and target of `targets`,
    as many at once as the machine has cores (each is a TensorFlow start of its own): each
    kind's stdout. Raises with the stderr of one that fails."""

    def write(kind):
        command = [sys.executable, writer, kind, targets[kind]]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise AssertionError(f"{writer} {kind} failed:\n{done.stderr}")
        return done.stdout.strip()

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        return dict(zip(targets, pool.map(write, targets), strict=True))


def flip_byte(path):
    """Damage `path` in place: its middle byte inverted (a checkpoint's data file then fails
    its checksum)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def config_with(*entries):
    """`project_config` with `entries` added to its checkpoints."""
    config = project_config()
    config["checkpoints"] += list(entries)
    return config


def run_script(name, **options):
    """scripts/NAME.py in a process of its own, each keyword an option (--key value)."""
    command = [sys.executable, PROJECT / "scripts" / f"{name}.py"]
    command += [arg for key, value in options.items() for arg in (f"--{key}", value)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


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
    run_build(step_settings.build_settings(config), directory)
    return directory


@pytest.fixture(scope="session")
def seed_entry(config):
    """The default config's built checkpoint, every setting filled in."""
    return next(entry for entry in config["checkpoints"] if entry["built"])


@pytest.fixture(scope="session")
def audited(built, seed_entry):
    """restore.py's folder of values files for the built checkpoint, every ordering."""
    return run_restore(
        step_settings.restore_settings(seed_entry),
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
