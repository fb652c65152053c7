"""load_object_checkpoint's job on a TF2 checkpoint with its model, against a plain one-process
script restoring it into the same model the same ways and reading every variable
(`plain_object_checkpoint.py`): both as processes, side by side, alternating, medians of
--repeat runs.

    python bench/object_checkpoint_load.py    # 200 variables, 50 MB; --variables 2000

Prints a Markdown table: the variables and size, the job's median seconds and peak memory, the
plain script's, and their ratio.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from commands import PROJECT

# isort: split
from ckptorder.formats import given_object_ckpt
from wild_restore import compare_commands

# The model's code (a tf.Module of square float32 matrices, seeded) and, run as a script, the
# checkpoint it writes: its values changed from the initial ones, as a trained model's.
MODEL = """
import sys

import tensorflow as tf


def build():
    module = tf.Module()
    module.layers = [
        tf.Variable(tf.random.stateless_uniform([{width}, {width}], [1, n]), name=f"layer_{{n}}")
        for n in range({variables})
    ]
    return {{"model": module}}


if __name__ == "__main__":
    objects = build()
    for variable in objects["model"].layers:
        variable.assign_add(tf.ones_like(variable))
    print(tf.train.Checkpoint(**objects).save(sys.argv[1]))
"""


def make(folder, variables, megabytes):
    """The model's file and the checkpoint it writes, in `folder`: (prefix, model)."""
    width = max(2, round(math.sqrt(megabytes * 2**20 / 4 / variables)))
    path = Path(folder) / "model.py"
    path.write_text(MODEL.format(variables=variables, width=width))
    wrote = subprocess.run(
        [sys.executable, path, Path(folder) / "ckpt"], check=True, capture_output=True, text=True
    )
    return wrote.stdout.strip(), f"{path}:build"


def job_command(prefix, model):
    settings = {
        "checkpoint": "bench",
        "orderings": given_object_ckpt.variant_orderings("tf2"),
        "model": model,
        "trust": True,
    }
    script = PROJECT / "scripts" / "load_object_checkpoint.py"
    return [sys.executable, script, "--settings", json.dumps(settings), "--checkpoint", prefix]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variables", type=int, nargs="+", default=[200])
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    print("| variables | MB | job s | its peak MB | plain script s | ratio |")
    print("|---|---|---|---|---|---|")
    for variables in args.variables:
        with tempfile.TemporaryDirectory() as folder:
            prefix, model = make(folder, variables, args.megabytes)
            size = sum(p.stat().st_size for p in Path(folder).glob("ckpt-1.data-*"))
            plain = [sys.executable, PROJECT / "bench" / "plain_object_checkpoint.py"]
            (job, peak), (reference, _) = compare_commands(
                lambda output, prefix=prefix, model=model: [
                    *job_command(prefix, model),
                    "--output",
                    output,
                ],
                [*plain, prefix, model],
                args.repeat,
                folder,
            )
            print(
                f"| {variables:,} | {size / 2**20:.0f} | {job:.1f} | {peak:.0f}"
                f" | {reference:.1f} | {job / reference:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
