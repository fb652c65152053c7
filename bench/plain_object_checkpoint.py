"""The reference for load_object_checkpoint's speed: what a user could write in one plain
process. Restore a TF2 checkpoint into the model FUNCTION of FILE.py builds (a dict of
trackables) each way load_object_checkpoint does (graph mode: the initializers before and
after the restore ops, initialize_or_restore, with and without expect_partial; eager: build,
then restore, and restore into an empty Checkpoint, then build and attach), each on a model
built anew, and read every variable in one call; and read the checkpoint's values and the
model's initial ones. No values files, no matching, no comparison.

    python bench/plain_object_checkpoint.py PREFIX FILE.py:FUNCTION
"""

import argparse
import importlib.util
import time

import tensorflow as tf


def built_objects(model):
    """What FUNCTION of `model` (FILE.py:FUNCTION) returns: a dict of trackables."""
    path, _, function = model.rpartition(":")
    spec = importlib.util.spec_from_file_location("model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function)()


def built(model):
    """tf.train.Checkpoint of what FUNCTION of `model` returns, and its variables."""
    objects = built_objects(model)
    return tf.train.Checkpoint(**objects), [v for o in objects.values() for v in o.variables]


def restore_then_attach(prefix, model):
    """Eager: restore into an empty Checkpoint, then build the model and attach its objects;
    every variable's value."""
    empty = tf.train.Checkpoint()
    empty.restore(prefix)
    objects = built_objects(model)
    for name, trackable in objects.items():
        setattr(empty, name, trackable)
    return [v.numpy() for o in objects.values() for v in o.variables]


def in_graph(prefix, model, steps):
    """A fresh graph: the model, its restore, then `steps` (names of what to run); every
    variable's value in one call."""
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        checkpoint, variables = built(model)
        status = checkpoint.restore(prefix) if prefix else None
        initialize = tf.compat.v1.global_variables_initializer()
        actions = {
            "init": lambda: sess.run(initialize),
            "restore_ops": lambda: status.run_restore_ops(sess),
            "initialize_or_restore": lambda: status.initialize_or_restore(sess),
            "expect_partial": lambda: status.expect_partial(),
        }
        for step in steps:
            actions[step]()
        return sess.run([v.value() for v in variables])


GRAPH_LOADS = (
    ("init", "restore_ops"),
    ("restore_ops", "init"),
    ("initialize_or_restore",),
    ("expect_partial", "initialize_or_restore"),
)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prefix")
    parser.add_argument("model")
    args = parser.parse_args()
    started = time.perf_counter()
    reader = tf.train.load_checkpoint(args.prefix)
    saved = [reader.get_tensor(key) for key in reader.get_variable_to_shape_map()]
    initial = in_graph(None, args.model, ("init",))
    for steps in GRAPH_LOADS:
        in_graph(args.prefix, args.model, steps)
    checkpoint, variables = built(args.model)
    checkpoint.restore(args.prefix)
    [v.numpy() for v in variables]
    restore_then_attach(args.prefix, args.model)
    print(f"{len(saved)} keys, {len(initial)} variables: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
