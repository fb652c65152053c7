"""The pipeline's job graph as Snakemake plans it, and the bounds a cold run is compared with.

The graph is read from `snakemake --detailed-summary` (a row per output file: its rule, log,
input files and shell command) after a run, so it follows the Snakefile as it changes. A job
is named by its log below results/logs (`extract/saved`); its `benchmark:` file has the same
name below results/benchmarks, as every rule of the Snakefile has it.
"""

import csv
import heapq
import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from commands import snakemake

LOGS, BENCHMARKS = Path("results/logs"), Path("results/benchmarks")


@dataclass
class Job:
    rule: str
    command: str  # the step's own command, without the log redirection
    outputs: set = field(default_factory=set)
    inputs: set = field(default_factory=set)
    needs: set = field(default_factory=set)


def jobs(workdir):
    """Every job of the workflow in `workdir`, which has run to the end, by name."""
    summary = subprocess.run(
        snakemake("--detailed-summary"), cwd=workdir, capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for row in csv.DictReader(io.StringIO(summary), delimiter="\t"):
        name = str(Path(row["log-file(s)"]).relative_to(LOGS).with_suffix(""))
        command = row["shellcmd"].split(" > ", 1)[0].split(" 2>&1", 1)[0]
        job = found.setdefault(name, Job(row["rule"], command))
        job.outputs.add(row["output_file"])
        job.inputs.update(row["input-file(s)"].split(","))
    producer = {output: name for name, job in found.items() for output in job.outputs}
    for job in found.values():
        job.needs = {producer[path] for path in job.inputs if path in producer}
    return found


def walls(workdir, names):
    """Wall seconds of each job, from its benchmark file."""
    seconds = {}
    for name in names:
        with open(Path(workdir) / BENCHMARKS / f"{name}.tsv") as handle:
            seconds[name] = float(next(csv.DictReader(handle, delimiter="\t"))["s"])
    return seconds


def remaining_chain(graph, wall):
    """For each job, the longest chain of dependent jobs from its start to the end."""
    followers = {name: [n for n, job in graph.items() if name in job.needs] for name in graph}
    chain = {}

    def length(name):
        if name not in chain:
            chain[name] = wall[name] + max((length(f) for f in followers[name]), default=0.0)
        return chain[name]

    for name in graph:
        length(name)
    return chain


def longest_chain(graph, wall):
    """The DAG's longest chain of dependent jobs: no schedule ends sooner."""
    return max(remaining_chain(graph, wall).values())


def scheduled(graph, wall, cores):
    """When the last job ends if `cores` jobs at a time run, each started as soon as a core
    and its inputs are free, the one with the longest chain ahead first (critical-path list
    scheduling): a schedule that this DAG's shape and these walls allow."""
    priority = remaining_chain(graph, wall)
    done, running, now = set(), [], 0.0
    waiting = set(graph)
    while waiting or running:
        ready = sorted(
            (n for n in waiting if graph[n].needs <= done), key=lambda n: (-priority[n], n)
        )
        for name in ready[: cores - len(running)]:
            waiting.remove(name)
            heapq.heappush(running, (now + wall[name], name))
        now, name = heapq.heappop(running)
        done.add(name)
    return now
