"""The reference for load_savedmodel's speed: what a user could write in one plain process.
Load a SavedModel's folder each way load_savedmodel does (loader.load; loader.load, then the
initializers; tf.saved_model.load in graph mode, then its restore or the initializers;
tf.saved_model.load, eager), each in a fresh graph or load, and read every variable in one
call; and read its saved values. No guard, no values files, no comparison.

    python bench/plain_savedmodel.py FOLDER
"""

import argparse
import time

import tensorflow as tf
from tensorflow.core.framework import variable_pb2
from tensorflow.core.protobuf import saved_model_pb2

SERVE = ["serve"]


def graph_load(folder, then_initialize):
    """loader.load in a fresh graph, then, if asked, the initializers; every variable op's value
    (a resource variable's through a read), in one call."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        tf.compat.v1.saved_model.loader.load(sess, SERVE, folder)
        if then_initialize:
            sess.run(tf.compat.v1.global_variables_initializer())
        reads = []
        for op in graph.get_operations():
            if op.type == "VarHandleOp":
                reads.append(
                    tf.raw_ops.ReadVariableOp(resource=op.outputs[0], dtype=op.get_attr("dtype"))
                )
            elif op.type == "VariableV2":
                reads.append(op.outputs[0])
        return sess.run(reads)


def loaded_reads(loaded, folder):
    """A read of every variable tf.saved_model.load gave: those its objects hold, or, for a TF1
    SavedModel, every variable of its variables collection through one pruned function."""
    held = [v for v in tf.train.TrackableView(loaded).descendants() if isinstance(v, tf.Variable)]
    if held:
        return [v.value() for v in held]
    saved_model = saved_model_pb2.SavedModel()
    with open(f"{folder}/saved_model.pb", "rb") as handle:
        saved_model.ParseFromString(handle.read())
    listed = saved_model.meta_graphs[0].collection_def["variables"].bytes_list.value
    return loaded.prune(
        [], [variable_pb2.VariableDef.FromString(v).snapshot_name for v in listed]
    )()


def eager_load(folder):
    """tf.saved_model.load, eager: every variable's value."""
    return [t.numpy() for t in loaded_reads(tf.saved_model.load(folder, tags=SERVE), folder)]


def v2_graph_load(folder, run):
    """tf.saved_model.load in a fresh graph, then its restore (`restore`) or the initializers
    (`global`); every variable's value in one call, or None where some is uninitialized."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        reads = loaded_reads(tf.saved_model.load(folder, tags=SERVE), folder)
        if run == "restore":
            sess.run(tf.compat.v1.get_collection("saved_model_initializers"))
        else:
            sess.run(tf.compat.v1.global_variables_initializer())
        try:
            return sess.run(reads)
        except tf.errors.FailedPreconditionError:
            return None


def run_all(folder):
    reader = tf.train.load_checkpoint(f"{folder}/variables/variables")
    states = [{key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()}]
    states += [graph_load(folder, False), graph_load(folder, True)]
    states += [v2_graph_load(folder, "restore"), v2_graph_load(folder, "global")]
    states.append(eager_load(folder))
    return len(states)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    args = parser.parse_args()
    started = time.perf_counter()
    count = run_all(args.folder)
    print(f"{count} states in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
