"""What the sandbox costs (scripts/ckptorder/sandbox.py): side by side, alternating, medians of
--repeat runs in this one invocation.

    python bench/sandbox_cost.py            # about 10 minutes here

- the restore job on a TF1 training checkpoint of about 1,500 variables (`wild.py`, 50 MB),
  confined as the pipeline runs it, and unconfined: the same script's main() from a process
  that has imported TensorFlow first, which cannot fork a confined child and runs the job as
  it is (what the tests' in-process calls do);
- `snakemake --cores 4` from clean, on a copy of this tree and on one of --before, the commit
  before the sandbox (its guard too: the whole change's cost).

Prints a Markdown table.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from commands import PROJECT, SKIP, snakemake, timed
from wild_restore import make, measured, restore_command

UNCONFINED = (
    "import os, runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "sys.path.insert(0, os.path.dirname(sys.argv[0]))\n"
    "import ckptorder.tfsession\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def unconfined(command):
    """`command` (python SCRIPT ...) run from a process that imported TensorFlow first, as
    the steps set it up (`tfsession`)."""
    return [command[0], "-c", UNCONFINED, *command[1:]]


def restore_jobs(folder, repeat):
    """Median seconds and peak MB of the restore job, confined and not, on ~1,500 variables."""
    prefix, facts = make(folder, 1500, 50)
    runs = {"confined": [], "unconfined": []}
    for n in range(repeat):
        for kind, runs_of_kind in runs.items():
            command = [*restore_command(prefix, None), "--output", Path(folder) / f"{kind}-{n}"]
            runs_of_kind.append(measured(command if kind == "confined" else unconfined(command)))
    return facts, {
        kind: (statistics.median(s for s, _ in found), max(m for _, m in found))
        for kind, found in runs.items()
    }


def tree_at(revision, root):
    """A copy of the project's tracked files at `revision`."""
    folder = Path(root) / f"at-{revision}"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", PROJECT, "archive", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def cold_runs(root, before, repeat):
    """Median seconds of `snakemake --cores 4` from clean, this tree and `before`'s."""
    trees = {"this tree": PROJECT, before: tree_at(before, root)}
    runs = {name: [] for name in trees}
    for n in range(repeat):
        for number, (name, tree) in enumerate(trees.items()):
            workdir = Path(root) / f"cold-{n}-{number}"
            shutil.copytree(tree, workdir, ignore=SKIP)
            runs[name].append(timed(snakemake("--cores", "4"), cwd=workdir))
    return {name: statistics.median(found) for name, found in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default="c17618c", help="the commit to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        facts, jobs = restore_jobs(folder, args.repeat)
        cold = cold_runs(folder, args.before, args.repeat)
    confined, unconfined_job = jobs["confined"], jobs["unconfined"]
    print("| measure | confined | unconfined | ratio |")
    print("|---|---|---|---|")
    print(
        f"| restore job, {facts['variables']:,} variables, {facts['MB']:.0f} MB, s"
        f" | {confined[0]:.2f} | {unconfined_job[0]:.2f} | {confined[0] / unconfined_job[0]:.3f} |"
    )
    print(f"| its peak MB | {confined[1]:.0f} | {unconfined_job[1]:.0f} | |")
    now, then = cold["this tree"], cold[args.before]
    print(
        f"| `T_cold`, s (unconfined: {args.before}) | {now:.2f} | {then:.2f} | {now / then:.3f} |"
    )
    print(f"\n({sys.version.split()[0]}, {args.repeat} runs each, alternating)")


if __name__ == "__main__":
    main()
