"""load_savedmodel's job on SavedModels like users bring, against a plain one-process script
loading them the same ways and reading every variable (`plain_savedmodel.py`): both as
processes, side by side, alternating, medians of --repeat runs.

    python bench/savedmodel_load.py    # a TF1 and a TF2 SavedModel of 200 variables, 50 MB

Prints a Markdown table: per SavedModel its kind, variables and size, the job's median seconds
and peak memory, the plain script's, and their ratio.
"""

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from commands import PROJECT

# isort: split
from ckptorder.formats import given_savedmodel
from ckptorder.step_settings import SavedModelSettings
from wild_restore import compare_commands

KINDS = ("tf1", "tf2")


def make(kind, folder, variables, megabytes):
    """A SavedModel of `kind` in `folder`: `variables` seeded square float32 matrices of about
    `megabytes` in all, and a serving signature that multiplies its input by each in turn,
    written by saved_model.Builder (tf1) or tf.saved_model.save (tf2), in a process of its own
    (TF2's behaviour)."""
    width = max(2, round(math.sqrt(megabytes * 2**20 / 4 / variables)))
    code = MAKERS[kind].format(folder=str(folder), variables=variables, width=width)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


MAKERS = {
    "tf1": """
import tensorflow as tf
v1 = tf.compat.v1
with tf.Graph().as_default():
    v1.set_random_seed(1)
    x = v1.placeholder(tf.float32, [None, {width}], name="x")
    y = x
    for n in range({variables}):
        y = tf.tanh(tf.matmul(y, v1.get_variable(f"layer_{{n}}/kernel", [{width}, {width}])))
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder({folder!r})
        signature = v1.saved_model.predict_signature_def({{"x": x}}, {{"y": y}})
        builder.add_meta_graph_and_variables(
            sess, ["serve"], signature_def_map={{"serving_default": signature}}
        )
        builder.save()
""",
    "tf2": """
import tensorflow as tf
module = tf.Module()
module.layers = [
    tf.Variable(tf.random.stateless_uniform([{width}, {width}], [1, n]), name=f"layer_{{n}}")
    for n in range({variables})
]

@tf.function(input_signature=[tf.TensorSpec([None, {width}], tf.float32, name="x")])
def serve(x):
    for layer in module.layers:
        x = tf.tanh(tf.matmul(x, layer))
    return {{"y": x}}

module.serve = serve
tf.saved_model.save(module, {folder!r}, signatures={{"serving_default": serve}})
""",
}


def job_command(kind, folder):
    states = given_savedmodel.kind_orderings(kind)
    settings = SavedModelSettings(checkpoint="bench", orderings=states, trust=False, tags=None)
    script = PROJECT / "scripts" / "load_savedmodel.py"
    return [sys.executable, script, "--settings", settings.dump(), "--savedmodel", folder]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variables", type=int, default=200)
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS)
    args = parser.parse_args()
    print("| kind | variables | MB | job s | its peak MB | plain script s | ratio |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds:
            savedmodel = Path(folder) / kind
            make(kind, savedmodel, args.variables, args.megabytes)
            size = sum(p.stat().st_size for p in savedmodel.glob("variables/variables.data-*"))
            plain = [sys.executable, PROJECT / "bench" / "plain_savedmodel.py", savedmodel]
            (job, peak), (reference, _) = compare_commands(
                lambda output, kind=kind, savedmodel=savedmodel: [
                    *job_command(kind, savedmodel),
                    "--output",
                    output,
                ],
                plain,
                args.repeat,
                folder,
            )
            print(
                f"| {kind} | {args.variables:,} | {size / 2**20:.0f} | {job:.1f} | {peak:.0f}"
                f" | {reference:.1f} | {job / reference:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
