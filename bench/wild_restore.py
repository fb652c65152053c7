"""The restore job on checkpoints like users bring (`wild.py`: a TF1 training graph with batch
norm and Adam slots), against a plain one-process script doing the same orderings
(`plain_restore.py`): both as processes, side by side, alternating, medians of --repeat runs.

    python bench/wild_restore.py                     # 150 variables, 10 MB
    python bench/wild_restore.py --curve             # also 150, 1,500, 5,000 variables at 50 MB

Prints a Markdown table: per checkpoint its variables, size and graph nodes, the restore job's
median seconds and peak memory, the plain script's, and their ratio.
"""

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from commands import PROJECT

# isort: split
import wild
from ckptorder.formats import ckpt
from ckptorder.tfsession import tf

# Variables a layer of wild.py's graph holds: kernel, gamma, beta, the moving mean and
# variance, and two Adam slots of each of the three trained ones.
PER_LAYER = 11
PARTIAL = ["layer_0/kernel"]


def layers_and_width(variables, megabytes):
    """A layer count giving about `variables` variables, and a width giving about `megabytes`
    of checkpoint (three float32 copies of each kernel: itself and its two slots)."""
    layers = max(1, round(variables / PER_LAYER))
    return layers, max(2, round(math.sqrt(megabytes * 2**20 / 4 / 3 / layers)))


def make(folder, variables, megabytes):
    layers, width = layers_and_width(variables, megabytes)
    prefix = Path(folder) / f"wild-{variables}" / "model.ckpt"
    names = wild.save_trained(prefix, layers, width)
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(Path(f"{prefix}.meta").read_bytes())
    size = sum(p.stat().st_size for p in prefix.parent.glob("model.ckpt.data-*"))
    return prefix, {"variables": len(names), "MB": size / 2**20, "nodes": len(meta.graph_def.node)}


def restore_command(prefix, output):
    settings = {
        "checkpoint": "wild",
        "orderings": ckpt.BUILT_ORDERINGS,  # its checkpoints have no moving averages
        "partial_variables": PARTIAL,
        "moving_averages": None,
        "trust": False,
        "output_tensor": None,
    }
    script = PROJECT / "scripts" / "restore.py"
    return [sys.executable, script, "--settings", json.dumps(settings), "--checkpoint", prefix]


def plain_command(prefix):
    return [sys.executable, PROJECT / "bench" / "plain_restore.py", prefix, "--partial", *PARTIAL]


def measured(command):
    """(seconds, peak resident MB) of `command` under /usr/bin/time -v."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *map(str, command)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024


def compare(prefix, repeat, folder):
    """Median seconds and peak MB of the restore job and of the plain script, alternating."""
    return compare_commands(
        lambda output: [*restore_command(prefix, output), "--output", output],
        plain_command(prefix),
        repeat,
        folder,
    )


def compare_commands(job_command, plain_command, repeat, folder):
    """Median seconds and peak MB of a job (`job_command`: the command writing to a folder it
    is given) and of a plain script's command, run in turn `repeat` times."""
    job, plain = [], []
    for n in range(repeat):
        job.append(measured(job_command(Path(folder) / f"values-{n}")))
        plain.append(measured(plain_command))
    return [
        (statistics.median(s for s, _ in runs), max(m for _, m in runs)) for runs in (job, plain)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--curve", action="store_true")
    args = parser.parse_args()
    cases = [(150, 10)] + ([(150, 50), (1500, 50), (5000, 50)] if args.curve else [])
    print("| variables | MB | graph nodes | restore job s | its peak MB | plain script s | ratio |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for variables, megabytes in cases:
            prefix, facts = make(folder, variables, megabytes)
            (job, peak), (plain, _) = compare(prefix, args.repeat, folder)
            print(
                f"| {facts['variables']:,} | {facts['MB']:.0f} | {facts['nodes']:,} | {job:.1f}"
                f" | {peak:.0f} | {plain:.1f} | {job / plain:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
