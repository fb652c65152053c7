"""TensorFlow set-up shared by the steps that run it: the TF1 graph API, quiet logs."""

import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's kernels keep the memory of freed tensors: with them a restore job of a 1 GiB
# checkpoint peaks at 3.4x the checkpoint's size, without them at 2.5x.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# TensorFlow imports Keras' optimizers eagerly (about 0.9 s of CPU) and skips them when they
# cannot be imported; nothing here uses Keras, so they are marked as not importable.
sys.modules.setdefault("keras.src.optimizers", None)

import tensorflow as tf  # noqa: E402

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


def variable_values(sess):
    """(name, value) of every global variable, fetched one at a time to hold one copy at most."""
    for variable in tf.compat.v1.global_variables():
        yield variable.op.name, sess.run(variable)


def exit_skipping_teardown():
    """End a step that succeeded without Python's teardown of TensorFlow, which costs about
    0.6 s of CPU per process (a fifth of a restore job) and achieves nothing here: every
    output is already closed and renamed into place."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
