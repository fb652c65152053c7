"""TensorFlow set-up shared by the steps that run it: the TF1 graph API, quiet logs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

tf.compat.v1.disable_v2_behavior()

DATA_SUFFIX = ".data-00000-of-00001"
CHECKPOINT_SUFFIXES = (".index", DATA_SUFFIX, ".meta")
tf.get_logger().setLevel("ERROR")


def session(graph, threads):
    """A session on `graph` whose intra- and inter-op pools hold `threads` threads."""
    config = tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
    )
    return tf.compat.v1.Session(graph=graph, config=config)


def read_variables(sess):
    """Every global variable's current value, by variable name."""
    variables = tf.compat.v1.global_variables()
    return {v.op.name: value for v, value in zip(variables, sess.run(variables), strict=True)}
