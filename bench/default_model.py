"""The benchmark's measures of the default model: where the time of a run goes, and how close
a cold run comes to the bounds its job graph sets."""

import statistics
import sys
from pathlib import Path

import yaml

import dag
from commands import PROJECT, fresh_copy, snakemake, timed

TF_RULES = ("build", "restore", "export", "load")


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


def interleaved(repeat, measures):
    """The runs of every measure, `repeat` of each, taken in turn so that a slow spell of this
    shared machine falls on all of them alike rather than on one."""
    runs = {name: [] for name in measures}
    for run in range(repeat):
        for name, measure in measures.items():
            runs[name].append(measure(run))
    return runs


def measure(root, repeat):
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
    graph = dag.jobs(copies[1][0])
    each_run = [dag.walls(copy, graph) for copy in copies[1]]
    wall = {job: statistics.median(w[job] for w in each_run) for job in graph}
    results["W"] = sum(wall.values())
    results["C"] = dag.longest_chain(graph, wall)
    results["T_ideal"] = results["floor"] + max(results["C"], results["W"] / 2)
    results["T_dag"] = results["floor"] + dag.scheduled(graph, wall, cores=2)
    slowest_tf = max((wall[job], job) for job in graph if graph[job].rule in TF_RULES)
    results["slowest TF job (--cores 1)"], results["slowest TF job name"] = slowest_tf
    return results
