"""The reference for the restore job's speed: what a user could write in one plain process.
For each ordering of a checkpoint (`ckpt.ORDERINGS`): import the `.meta` file into a
fresh graph, run the ordering's steps and read every variable in one `session.run`; and the
two references, the saved values (a checkpoint reader) and the initial ones. No guard, no
values files, no comparison.

    python bench/plain_restore.py PREFIX [--partial NAME ...] [--moving-averages NAME]
"""

import argparse
import time

from commands import PROJECT  # noqa: F401  first: it puts scripts/ on the path

# isort: split
from ckptorder.formats import ckpt
from ckptorder.tfsession import session, tf


def run_ordering(meta_graph, prefix, steps, partial, averages=None):
    """Import the graph, run `steps`, read every variable in one call; returns the values."""
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
        variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
        if {"initialize_from_checkpoint", "initialize_from_suggested_map"} & set(steps):
            tf.compat.v1.train.init_from_checkpoint(prefix, variables)
        initialize = tf.compat.v1.global_variables_initializer()
        if "initialize_uninitialized" in steps:
            uninitialized = tf.compat.v1.report_uninitialized_variables()
        partial_saver = (
            tf.compat.v1.train.Saver([variables[n] for n in partial]) if partial else None
        )
        if averages:
            average = tf.compat.v1.train.ExponentialMovingAverage(0.0, name=averages)
            averages_saver = tf.compat.v1.train.Saver(average.variables_to_restore())
        with session(graph, 1) as sess:
            for step in steps:
                if step.startswith("initialize_") and step != "initialize_uninitialized":
                    sess.run(initialize)
                elif step == "restore_all":
                    saver.restore(sess, prefix)
                elif step == "restore_partial":
                    partial_saver.restore(sess, prefix)
                elif step == "restore_moving_averages":
                    averages_saver.restore(sess, prefix)
                elif step == "initialize_uninitialized":
                    names = [n.decode() for n in sess.run(uninitialized)]
                    sess.run([variables[n].initializer for n in names])
            return sess.run(variables)


def run_all(prefix, partial, averages=None):
    """The saved values, the initial ones and every ordering's; returns their count."""
    meta_graph = tf.compat.v1.MetaGraphDef()
    with open(f"{prefix}.meta", "rb") as handle:
        meta_graph.ParseFromString(handle.read())
    for node in meta_graph.graph_def.node:  # what TensorFlow 2.21 may refuse of a 1.x graph
        node.attr.pop("_output_shapes", None)
    reader = tf.train.load_checkpoint(prefix)
    saved = {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()}
    states = [saved, run_ordering(meta_graph, prefix, ("initialize_all",), partial)]
    for ordering in ckpt.ORDERINGS.values():
        if ("restore_partial" in ordering.steps and not partial) or (
            "restore_moving_averages" in ordering.steps and not averages
        ):
            continue
        states.append(run_ordering(meta_graph, prefix, ordering.steps, partial, averages))
    return len(states)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prefix")
    parser.add_argument("--partial", nargs="*", default=[])
    parser.add_argument("--moving-averages")
    args = parser.parse_args()
    started = time.perf_counter()
    count = run_all(args.prefix, args.partial, args.moving_averages)
    print(f"{count} states in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
