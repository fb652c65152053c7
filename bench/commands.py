"""What the benchmark's measures share: the project, its copies and timed commands."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# The package the steps share, for the measures that use it as the Snakefile does.
sys.path.insert(0, str(PROJECT / "scripts"))

SKIP = shutil.ignore_patterns(
    ".git", ".snakemake", "results", "__pycache__", ".*cache", ".venv", "bench"
)


def timed(command, cwd, env=None):
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def snakemake(*args):
    return [sys.executable, "-m", "snakemake", *args]


def fresh_copy(root, name):
    workdir = Path(root) / name
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(PROJECT, workdir, ignore=SKIP)
    return workdir
