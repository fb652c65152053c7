"""build's TensorFlow work: the seed's network in a new graph, a few steps of SGD on synthetic
data, and the trained weights saved as a checkpoint. Imported by build.py once
its arguments are checked, so that `--help` and argument errors answer without TensorFlow."""

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ckptorder import network
from ckptorder.checkpoint_files import SUFFIXES
from ckptorder.tfsession import session, tf, variable_values
from ckptorder.values import write_values


def build_graph(seed, learning_rate, extra_layers):
    """The network, a mean-squared-error loss, one plain SGD step, the saver and the
    initializer, in a new graph finalised before it first runs."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        layer = tf.compat.v1.placeholder(tf.float32, network.INPUT_SHAPE, name="input")
        shapes = network.variable_shapes(extra_layers)
        for scope, _, stride in network.layers(extra_layers):
            with tf.compat.v1.variable_scope(scope):
                kernel = tf.compat.v1.get_variable(
                    "kernel",
                    shapes[f"{scope}/kernel"],
                    initializer=tf.compat.v1.glorot_uniform_initializer(),
                )
                bias = tf.compat.v1.get_variable(
                    "bias",
                    shapes[f"{scope}/bias"],
                    initializer=tf.compat.v1.zeros_initializer(),
                )
                layer = tf.nn.conv2d(layer, kernel, strides=stride, padding="SAME")
                layer = tf.nn.bias_add(layer, bias)
        target = tf.compat.v1.placeholder(tf.float32, layer.shape, name="target")
        loss = tf.reduce_mean(tf.square(layer - target), name="loss")
        optimizer = tf.compat.v1.train.GradientDescentOptimizer(learning_rate)
        optimizer.minimize(loss, name="train")
        saver = tf.compat.v1.train.Saver(save_relative_paths=True)
        initialize = tf.compat.v1.global_variables_initializer()
    graph.finalize()
    return graph, saver, initialize


def synthetic_batches(seed, steps, batch_size, extra_layers):
    """`steps` (input, target) pairs of standard-normal float32 data drawn from `seed`."""
    rng = np.random.default_rng(seed)
    in_shape = (batch_size, *network.INPUT_SHAPE[1:])
    out_shape = network.output_shape(batch_size, extra_layers)
    for _ in range(steps):
        yield (
            rng.standard_normal(in_shape, dtype=np.float32),
            rng.standard_normal(out_shape, dtype=np.float32),
        )


def train(sess, graph, settings):
    """Run the SGD steps. Raises ValueError as soon as the loss is not finite."""
    train_op = graph.get_operation_by_name("train")
    loss = graph.get_tensor_by_name("loss:0")
    batches = synthetic_batches(
        settings["seed"], settings["steps"], settings["batch_size"], settings["extra_layers"]
    )
    for step, (inputs, targets) in enumerate(batches, start=1):
        _, value = sess.run([train_op, loss], {network.INPUT: inputs, "target:0": targets})
        logging.info("step %d of %d: loss %.9g", step, settings["steps"], value)
        if not np.isfinite(value):
            raise ValueError(
                f"training loss is {value} at step {step}: train.learning_rate "
                f"{settings['learning_rate']} is too large (training diverges)"
            )


def save_checkpoint(sess, saver, prefix):
    """Save under a temporary folder, then move each file into place."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=prefix.parent, prefix=".build-") as scratch:
        started = time.perf_counter()
        saver.save(sess, os.path.join(scratch, prefix.name))
        elapsed = time.perf_counter() - started
        size = sum(f.stat().st_size for f in Path(scratch).iterdir())
        logging.info("saved %d bytes in %.3f s", size, elapsed)
        for suffix in (*SUFFIXES, "checkpoint"):
            name = prefix.name + suffix if suffix != "checkpoint" else suffix
            shutil.move(os.path.join(scratch, name), prefix.parent / name)


def check_finite(sess, learning_rate):
    """Raises ValueError at the first variable that is not finite."""
    for name, value in variable_values(sess):
        if not np.isfinite(value).all():
            raise ValueError(
                f"weights {name} are not finite after training: "
                f"train.learning_rate {learning_rate} is too large"
            )


def inference_batch(seed):
    """The fixed input batch every loaded model is run on: standard-normal float32 data drawn
    from `seed` in a stream of its own (not one of training's batches)."""
    rng = np.random.default_rng([seed, 1])
    return rng.standard_normal((INFERENCE_BATCH, *network.INPUT_SHAPE[1:]), dtype=np.float32)


INFERENCE_BATCH = 2


def write_inference_reference(sess, graph, settings, path):
    """The fixed batch and the network's output on it right before saving, as a values file
    (`input`, `output`): what every loaded model's output is compared with. A convolution's
    bits depend on the thread count: the jobs that compare run with training's."""
    batch = inference_batch(settings["seed"])
    output = graph.get_tensor_by_name(network.output_tensor(settings["extra_layers"]))
    write_values(path, [("input", batch), ("output", sess.run(output, {network.INPUT: batch}))])


def build_and_save(settings, prefix, inference):
    """Build and train the network with `settings` (build's SETTINGS), save it under the
    checkpoint `prefix` and its output on a fixed batch to `inference`. Raises ValueError where
    training diverges."""
    tf.config.experimental.enable_op_determinism()
    graph, saver, initialize = build_graph(
        settings["seed"], settings["learning_rate"], settings["extra_layers"]
    )
    with graph.as_default(), session(graph, settings["threads"]) as sess:
        sess.run(initialize)
        train(sess, graph, settings)
        check_finite(sess, settings["learning_rate"])
        write_inference_reference(sess, graph, settings, inference)
        save_checkpoint(sess, saver, prefix)
        logging.info("wrote checkpoint %s", prefix)
