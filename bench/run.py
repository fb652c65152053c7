"""Benchmark of the pipeline on this machine: where the time goes, how close it is to the
limit its jobs set, and how it copes with a checkpoint of about a gigabyte.

    python bench/run.py            # timings on the default model (about 6 minutes here)
    python bench/run.py --scale    # also the ~1 GiB model (5 to 9 minutes more)

Prints a Markdown table and writes it to bench/results.md. Every figure is a median of
--repeat runs measured in this one invocation, so ratios compare like with like.
"""

import argparse
import csv
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "scripts"))

import network  # noqa: E402

SKIP = shutil.ignore_patterns(
    ".git", ".snakemake", "results", "__pycache__", ".*cache", ".venv", "bench"
)
TF_RULES = ("build", "restore")
MIDDLE_RULES = ("restore", "extract")
AFTER_SLICES = ("report", "verify", "outcomes_figure", "probes_figure")
# Filters of the extra layers that take the checkpoint to about 1 GiB (see README), spread
# over several layers: the largest tensor sets the transient copies of training and restore.
BIG_MODEL = [128, 256, 512, 1024, 3072, 3072, 3072, 3072]


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


def cold_run(root, cores, run, copies):
    """Seconds of a run from clean in a copy of its own, added to `copies`."""
    workdir = fresh_copy(root, f"cold-{cores}-{run}")
    copies.append(workdir)
    return timed(snakemake("--cores", str(cores)), workdir)


def floor(root):
    """Snakemake's own floor: a dry run of a one-rule Snakefile with nothing to do."""
    workdir = Path(root) / "floor"
    workdir.mkdir(exist_ok=True)
    (workdir / "Snakefile").write_text(
        'rule one:\n    output:\n        "x"\n    shell:\n        "touch {output}"\n'
    )
    (workdir / "x").touch()
    return timed(snakemake("--cores", "4", "--dry-run"), workdir)


def edit_slice(workdir, slice_):
    path = workdir / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["probes"][0]["slice"] = slice_
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def job_walls(workdir):
    """Wall seconds of every job, by its benchmark file's path below results/benchmarks."""
    walls = {}
    for path in (workdir / "results" / "benchmarks").rglob("*.tsv"):
        with open(path) as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        walls[str(path.relative_to(workdir / "results" / "benchmarks").with_suffix(""))] = float(
            row["s"]
        )
    return walls


def middle_jobs(walls):
    """The walls of the jobs between build and report: every restore and extract."""
    return {job: wall for job, wall in walls.items() if job.split("/")[0] in MIDDLE_RULES}


def middle_chain(walls):
    """The longest path between build and report: the slowest restore and its extract (the
    saved and initial extracts run beside the restores)."""
    orderings = [job.split("/", 1)[1] for job in walls if job.startswith("restore/")]
    through_orderings = max(walls[f"restore/{o}"] + walls[f"extract/{o}"] for o in orderings)
    return max(through_orderings, walls["extract/saved"], walls["extract/initial"])


def after_slices_chain(walls):
    """Report, then the slower of verify and the outcomes figure; the probes figure beside."""
    after_report = max(walls["verify"], walls["outcomes_figure"])
    return max(walls["report"] + after_report, walls["probes_figure"])


def longest_chain(walls):
    """The DAG's longest chain of dependent jobs."""
    return walls["build"] + middle_chain(walls) + after_slices_chain(walls)


def dag_bound(walls, cores=2):
    """What the best schedule of this DAG's shape can do on `cores` cores with these job walls:
    build alone, then the restores and extracts shared out, then the jobs that follow the
    slices shared out. T_ideal's W / 2 assumes every core busy from start to end."""
    middle = max(middle_chain(walls), sum(middle_jobs(walls).values()) / cores)
    after = max(after_slices_chain(walls), sum(walls[job] for job in AFTER_SLICES) / cores)
    return walls["build"] + middle + after


def interleaved(repeat, measures):
    """The runs of every measure, `repeat` of each, taken in turn so that a slow spell of this
    shared machine falls on all of them alike rather than on one."""
    runs = {name: [] for name in measures}
    for run in range(repeat):
        for name, measure in measures.items():
            runs[name].append(measure(run))
    return runs


def measure_small(root, repeat):
    def import_tensorflow(run):
        return timed([sys.executable, "-c", "import tensorflow"], root)

    def mono(run):
        return timed([sys.executable, str(PROJECT / "bench" / "mono.py"), f"{root}/mono"], root)

    copies = {4: [], 1: []}
    runs = interleaved(
        repeat,
        {
            "T_import": import_tensorflow,
            "T_mono": mono,
            "T_cold": lambda run: cold_run(root, 4, run, copies[4]),
            "T_cold (--cores 1)": lambda run: cold_run(root, 1, run, copies[1]),
        },
    )
    workdir = copies[4][-1]

    def slice_edited(run):
        edit_slice(workdir, "[0, :, :, 2]" if run % 2 == 0 else "[1, :, :, 1]")
        return timed(snakemake("--cores", "4"), workdir)

    # A few seconds at most each: more runs, for steadier medians of short times.
    runs |= interleaved(
        3 * repeat,
        {
            "floor": lambda run: floor(root),
            "T_noop": lambda run: timed(snakemake("--cores", "4"), workdir),
            "T_slice": slice_edited,
        },
    )
    results = {name: statistics.median(times) for name, times in runs.items()}
    walls = [job_walls(copy) for copy in copies[1]]
    median_walls = {job: statistics.median(w[job] for w in walls) for job in walls[0]}
    results["W"] = sum(median_walls.values())
    results["C"] = longest_chain(median_walls)
    results["T_ideal"] = results["floor"] + max(results["C"], results["W"] / 2)
    results["T_dag"] = results["floor"] + dag_bound(median_walls)
    slowest_tf = max(
        (wall, job) for job, wall in median_walls.items() if job.split("/")[0] in TF_RULES
    )
    results["slowest TF job (--cores 1)"] = slowest_tf[0]
    results["slowest TF job name"] = slowest_tf[1]
    return results


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
    probe = {"probes": [{"tensor": name, "slice": "[0, 0, 0, :4]"}]}
    command = with_options(
        shlex.split(command), settings=json.dumps(probe), output=str(workdir / "largest.csv")
    )
    return run_alone(command, workdir)[0], 4 * math.prod(shape)


def step_commands(workdir):
    """The shell command of every job, as Snakemake would run them, by job name."""
    dry = subprocess.run(
        snakemake("--cores", "1", "--dry-run", "--forceall", "--printshellcmds"),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    commands, job = {}, None
    for line in dry.stdout.splitlines():
        stripped = line.strip()
        if stripped.startswith("rule ") or stripped.startswith("localrule "):
            job = stripped.split()[1].rstrip(":")
        elif stripped.startswith("wildcards:"):
            job += "/" + stripped.split("=", 1)[1]
        elif stripped.startswith("Shell command: python scripts/") and job:
            commands[job] = stripped.removeprefix("Shell command: ").split(" > ", 1)[0]
    return commands


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


def measure_big(root):
    workdir = fresh_copy(root, "big")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["model"]["extra_layers"] = BIG_MODEL
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    results = {"T_cold (big, --cores 4)": timed(snakemake("--cores", "4"), workdir)}
    checkpoint = sum(p.stat().st_size for p in (workdir / "results" / "checkpoint").iterdir())
    results["checkpoint MB"] = checkpoint / 1e6
    du = subprocess.run(
        ["du", "-sb", "results"], cwd=workdir, capture_output=True, text=True, check=True
    )
    results["results/ / checkpoint"] = int(du.stdout.split()[0]) / checkpoint
    commands = step_commands(workdir)
    logs = {}
    for job in (
        "build",
        "restore/init_then_restore",
        "restore/partial_restore",
        "extract/saved",
        "report",
        "probes_figure",
        "outcomes_figure",
    ):
        peak, logs[job] = run_alone(shlex.split(commands[job]), workdir)
        results[f"peak RSS / checkpoint: {job}"] = peak / checkpoint
    # extract/saved with the default probes (under 0.1 MB) is the interpreter's peak.
    interpreter = results["peak RSS / checkpoint: extract/saved"] * checkpoint
    peak, largest = largest_probe_peak(workdir, commands["extract/saved"])
    results["extract probing the largest tensor: peak above the interpreter / tensor"] = (
        peak - interpreter
    ) / largest
    data = workdir / "results" / "checkpoint" / "model.ckpt.data-00000-of-00001"
    size = data.stat().st_size
    save = size / logged_seconds(logs["build"], "saved") / 1e6
    restore = size / logged_seconds(logs["restore/init_then_restore"], "step restore_all") / 1e6
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


def versions():
    import importlib.metadata

    names = ("tensorflow", "snakemake", "numpy", "pandas", "matplotlib")
    return (
        ", ".join(f"{n} {importlib.metadata.version(n)}" for n in names)
        + f", Python {platform.python_version()}"
    )


def table(results):
    lines = ["| measure | value |", "|---|---|"]
    for key, value in results.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per median (at least 3)")
    parser.add_argument("--scale", action="store_true", help="also run the ~1 GiB model")
    parser.add_argument("--output", default=str(PROJECT / "bench" / "results.md"))
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat: at least 3 runs per median")
    with tempfile.TemporaryDirectory(prefix="bench-") as root:
        small = measure_small(root, args.repeat)
        small["T_cold / T_ideal"] = small["T_cold"] / small["T_ideal"]
        small["T_cold / T_dag"] = small["T_cold"] / small["T_dag"]
        small["T_cold / T_mono"] = small["T_cold"] / small["T_mono"]
        small["T_noop / floor"] = small["T_noop"] / small["floor"]
        small["T_slice - T_noop"] = small["T_slice"] - small["T_noop"]
        small["slowest TF job - T_import"] = small["slowest TF job (--cores 1)"] - small["T_import"]
        sections = [f"## Default model (seconds, medians of {args.repeat})\n\n{table(small)}"]
        if args.scale:
            big = table(measure_big(root))
            sections.append(f"## About 1 GiB checkpoint (extra_layers {BIG_MODEL})\n\n{big}")
    header = (
        f"# Benchmark\n\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"{platform.machine()}, {versions()}.\n"
    )
    text = header + "\n" + "\n\n".join(sections) + "\n"
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
