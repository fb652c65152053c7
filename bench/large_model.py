"""The benchmark's measures of a checkpoint of about 1 GiB: disk, memory and throughput."""

import json
import math
import os
import shlex
import statistics
import subprocess
import time

import yaml

from commands import fresh_copy, snakemake, timed  # first: it puts scripts/ on the path

# isort: split
import dag
from ckptorder import network
from ckptorder.orderings import ordering_of

# Filters of the extra layers that take the checkpoint to about 1 GiB (README.md beside this
# file), spread over several layers: the largest tensor sets the transient copies of training
# and restore.
BIG_MODEL = [128, 256, 512, 1024, 3072, 3072, 3072, 3072]
# The jobs whose peak memory is measured, each run alone; the restore job runs every ordering.
RESTORE = "restore/seed"
EXTRACT = "extract/seed"
PEAK_JOBS = ("build", RESTORE, EXTRACT, "report", "probes_figure/seed", "outcomes_figure/seed")
# The restore job's log line that times a restore of the whole model.
FULL_RESTORE = f"{ordering_of('initialize_all', 'restore_all')}: step restore_all"


def run_alone(command, cwd):
    """Run `command` alone under /usr/bin/time -v: (peak resident bytes, its stderr)."""
    result = subprocess.run(
        ["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True, text=True, check=True
    )
    line = next(line for line in result.stderr.splitlines() if "Maximum resident set size" in line)
    return int(line.rsplit(":", 1)[1]) * 1024, result.stderr


def with_options(command, **options):
    """`command` with the values of some of its `--options` replaced."""
    command = list(command)
    for option, value in options.items():
        command[command.index(f"--{option}") + 1] = value
    return command


def largest_probe_peak(workdir, command):
    """Peak resident bytes of extract `command` with one probe of the model's largest tensor,
    and that tensor's size in bytes (float32)."""
    name, shape = max(network.variable_shapes(BIG_MODEL).items(), key=lambda v: math.prod(v[1]))
    command = shlex.split(command)
    settings = json.loads(command[command.index("--settings") + 1])
    settings["probes"] = [{"tensor": name, "slice": "[0, 0, 0, :4]"}]
    command = with_options(
        command, settings=json.dumps(settings), output=str(workdir / "largest.csv")
    )
    return run_alone(command, workdir)[0], 4 * math.prod(shape)


def sequential_rate(path, size):
    """MB/s of a plain sequential write, then read, of `size` bytes at `path`, starting with
    no dirty pages from earlier writes to flush."""
    block = os.urandom(1 << 24)
    os.sync()
    started = time.perf_counter()
    with open(path, "wb") as handle:
        for _ in range(size // len(block) + 1):
            handle.write(block)
    write = size / (time.perf_counter() - started) / 1e6
    started = time.perf_counter()
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass
    read = size / (time.perf_counter() - started) / 1e6
    os.remove(path)
    return write, read


def logged_seconds(log, words):
    """The seconds a step's log gives on its line with `words` ("... in 2.5 s", "took 2.5 s")."""
    for line in log.splitlines():
        if words in line:
            return float(line.rsplit(" in " if " in " in line else " took ", 1)[1].split()[0])
    raise ValueError(f"{words!r} is not in the step's output")


def measure(root):
    workdir = fresh_copy(root, "big")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["model"]["extra_layers"] = BIG_MODEL
    # The checkpoint's pipeline alone: the SavedModel's and frozen GraphDef's copies of every
    # weight are not measured at this size.
    config["formats"] = ["ckpt"]
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    results = {"T_cold (big, --cores 4)": timed(snakemake("--cores", "4"), workdir)}
    checkpoint = sum(p.stat().st_size for p in (workdir / "results" / "checkpoint").iterdir())
    results["checkpoint MB"] = checkpoint / 1e6
    du = subprocess.run(
        ["du", "-sb", "results"], cwd=workdir, capture_output=True, text=True, check=True
    )
    results["results/ / checkpoint"] = int(du.stdout.split()[0]) / checkpoint
    commands = {name: job.command for name, job in dag.jobs(workdir).items()}
    logs = {}
    for job in PEAK_JOBS:
        peak, logs[job] = run_alone(shlex.split(commands[job]), workdir)
        results[f"peak RSS / checkpoint: {job}"] = peak / checkpoint
    # extract with the default probes (under 0.1 MB) is the interpreter's peak.
    interpreter = results[f"peak RSS / checkpoint: {EXTRACT}"] * checkpoint
    peak, largest = largest_probe_peak(workdir, commands[EXTRACT])
    results["extract probing the largest tensor: peak above the interpreter / tensor"] = (
        peak - interpreter
    ) / largest
    data = workdir / "results" / "checkpoint" / "model.ckpt.data-00000-of-00001"
    size = data.stat().st_size
    save = size / logged_seconds(logs["build"], "saved") / 1e6
    restore = size / logged_seconds(logs[RESTORE], FULL_RESTORE) / 1e6
    rates = [sequential_rate(workdir / "results" / "sequential.bin", size) for _ in range(3)]
    write = statistics.median(write for write, _ in rates)
    read = statistics.median(read for _, read in rates)
    results.update(
        {
            "save MB/s": save,
            "plain write MB/s": write,
            "save / plain write": save / write,
            "restore MB/s": restore,
            "plain read MB/s (page cache)": read,
            "restore / plain read": restore / read,
        }
    )
    return results
