"""The reference for load_savedmodel's speed: what a user could write in one plain process.
Load a SavedModel's folder each way load_savedmodel does (loader.load; loader.load, then the
initializers; tf.saved_model.load in graph mode, then its restore or the initializers;
tf.saved_model.load, eager), each in a fresh graph or load, read every variable in one call and
run each serving signature on a batch of two; and read its saved values. No guard, no values
files, no comparison.

    python bench/plain_savedmodel.py FOLDER
"""

import argparse
import time

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import variable_pb2
from tensorflow.core.protobuf import saved_model_pb2

SERVE = ["serve"]


def graph_load(folder, then_initialize):
    """loader.load in a fresh graph, then, if asked, the initializers; every variable op's value
    (a resource variable's through a read), in one call."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        meta_graph = tf.compat.v1.saved_model.loader.load(sess, SERVE, folder)
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
        values = sess.run(reads)
        for signature in serving_signatures(meta_graph):
            feed = {
                info.name: batch([d.size for d in info.tensor_shape.dim])
                for info in signature.inputs.values()
            }
            outputs = {key: info.name for key, info in signature.outputs.items()}
            ran(lambda o=outputs, f=feed: sess.run(o, f))
        return values


def serving_signatures(meta_graph):
    return [s for name, s in meta_graph.signature_def.items() if name != "__saved_model_init_op"]


def batch(dims):
    """Normal numbers for a float input of `dims` (None or -1 where unknown: 2)."""
    shape = [2 if d is None or d < 0 else d for d in dims]
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def ran(run):
    """`run()`'s outputs, or None where it raises (it reads an uninitialized variable)."""
    try:
        return run()
    except tf.errors.OpError:
        return None


def run_signatures(loaded, sess=None):
    """Each signature tf.saved_model.load gave, in `sess`'s graph or eager."""
    for function in loaded.signatures.values():
        specs = function.structured_input_signature[1]
        made = {key: tf.constant(batch(list(spec.shape))) for key, spec in specs.items()}
        if sess is None:
            ran(lambda f=function, m=made: {k: v.numpy() for k, v in f(**m).items()})
        else:
            ran(lambda f=function, m=made: sess.run(f(**m)))


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
    """tf.saved_model.load, eager: every variable's value; then the signatures run."""
    loaded = tf.saved_model.load(folder, tags=SERVE)
    values = [t.numpy() for t in loaded_reads(loaded, folder)]
    run_signatures(loaded)
    return values


def v2_graph_load(folder, run):
    """tf.saved_model.load in a fresh graph, then its restore (`restore`) or the initializers
    (`global`); every variable's value in one call, or None where some is uninitialized."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        loaded = tf.saved_model.load(folder, tags=SERVE)
        reads = loaded_reads(loaded, folder)
        if run == "restore":
            sess.run(tf.compat.v1.get_collection("saved_model_initializers"))
        else:
            sess.run(tf.compat.v1.global_variables_initializer())
        values = ran(lambda: sess.run(reads))
        run_signatures(loaded, sess)
        return values


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
