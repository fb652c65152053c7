"""Checkpoints like those users bring, made here since TF 1.x cannot be installed: a TF1
training graph saved as TF 1.x saves one, with what real ones carry. The tests make them
small; the benchmark at the sizes users have.

Each layer is a dense kernel and, optionally, a fused batch norm (gamma and beta trained, its
moving mean and variance updated by training); an optimizer's slots (Adam, momentum or none),
`global_step`, a histogram and a norm summary of every float variable (a 150-variable graph
has about 3,000 nodes), and optionally an exponential moving average of the trained
variables, a partitioned embedding, an int64 and a string variable.
Trained a few steps before saving, so that every saved value but a constant's differs from its
initial one.
"""

import os
from pathlib import Path

from commands import PROJECT  # noqa: F401  first: it puts scripts/ on the path

# isort: split
from ckptorder.tfsession import tf

OPTIMIZERS = {
    "adam": lambda: tf.compat.v1.train.AdamOptimizer(0.01),
    "momentum": lambda: tf.compat.v1.train.MomentumOptimizer(0.01, 0.9),
    "sgd": lambda: tf.compat.v1.train.GradientDescentOptimizer(0.01),
}


def training_graph(
    layers,
    width,
    optimizer="adam",
    batch_norm=True,
    ema=False,
    partitioned=False,
    extras=False,
    summaries=True,
):
    """The graph, its train op and, with `ema`, the moving average (None without)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(1)
        step = tf.compat.v1.train.get_or_create_global_step()
        inputs = tf.compat.v1.placeholder(tf.float32, [None, width], name="input")
        layer = inputs
        for n in range(layers):
            with tf.compat.v1.variable_scope(f"layer_{n}"):
                kernel = tf.compat.v1.get_variable("kernel", [width, width])
                layer = tf.matmul(layer, kernel)
                if batch_norm:
                    layer = fused_batch_norm(layer, width)
                layer = tf.nn.relu(layer)
        loss = tf.reduce_mean(tf.square(layer - 1.0))
        if partitioned:
            embedding = tf.compat.v1.get_variable(
                "embedding", [8, width], partitioner=tf.compat.v1.fixed_size_partitioner(2)
            )
            loss += tf.reduce_mean(tf.square(tf.nn.embedding_lookup(embedding, [1, 5])))
        if extras:
            tf.compat.v1.get_variable(
                "counter", [], tf.int64, tf.compat.v1.constant_initializer(7), trainable=False
            )
            tf.compat.v1.get_variable(
                "label", [], tf.string, tf.compat.v1.constant_initializer("ok"), trainable=False
            )
        train = OPTIMIZERS[optimizer]().minimize(loss, global_step=step)
        if summaries:  # as TF 1.x training scripts wrote them, for every float variable
            for variable in tf.compat.v1.global_variables():
                if variable.dtype.base_dtype.is_floating:
                    tf.compat.v1.summary.histogram(variable.op.name, variable)
                    tf.compat.v1.summary.scalar(f"{variable.op.name}/norm", tf.norm(variable))
            tf.compat.v1.summary.scalar("loss", loss)
            tf.compat.v1.summary.merge_all()
        average = None
        if ema:
            average = tf.compat.v1.train.ExponentialMovingAverage(0.5)
            with tf.control_dependencies([train]):
                train = average.apply(tf.compat.v1.trainable_variables())
        tf.compat.v1.add_to_collection("train_op", train)
    return graph, train, average


def fused_batch_norm(layer, width):
    """Batch norm as tf.compat.v1.layers.batch_normalization(fused=True) writes it: gamma and
    beta trained, the moving statistics updated by the train op."""
    gamma = tf.compat.v1.get_variable("gamma", [width], initializer=tf.ones_initializer())
    beta = tf.compat.v1.get_variable("beta", [width], initializer=tf.zeros_initializer())
    mean, variance = (
        tf.compat.v1.get_variable(name, [width], initializer=initializer, trainable=False)
        for name, initializer in (
            ("moving_mean", tf.zeros_initializer()),
            ("moving_variance", tf.ones_initializer()),
        )
    )
    four_d = tf.reshape(layer, [-1, 1, 1, width])
    normed, batch_mean, batch_variance = tf.compat.v1.nn.fused_batch_norm(
        four_d, gamma, beta, is_training=True
    )
    updates = [
        tf.compat.v1.assign_sub(mean, 0.1 * (mean - batch_mean)),
        tf.compat.v1.assign_sub(variance, 0.1 * (variance - batch_variance)),
    ]
    for update in updates:
        tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, update)
    with tf.control_dependencies(updates):
        return tf.reshape(normed, [-1, width])


def save_trained(prefix, layers, width, steps=3, shards=1, **options):
    """Train the graph `steps` steps on a fixed batch and save it at `prefix` (its `.meta`
    beside it; `folder/` saves files of an empty name, as TF 1.x did), in `shards` data files
    (one per CPU device the variables are spread over); returns the graph's variable names."""
    with tf.device(None):
        graph, train, _ = training_graph(layers, width, **options)
    if shards > 1:
        for n, op in enumerate(op for op in graph.get_operations() if op.type == "VariableV2"):
            op._set_device(f"/cpu:{n % shards}")
    prefix = str(prefix)
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    config = tf.compat.v1.ConfigProto(device_count={"CPU": shards})
    with graph.as_default(), tf.compat.v1.Session(graph=graph, config=config) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        batch = tf.random.stateless_normal([4, width], [1, 2])
        feed = {graph.get_tensor_by_name("input:0"): sess.run(batch)}
        for _ in range(steps):
            sess.run(train, feed)
        tf.compat.v1.train.Saver(sharded=shards > 1).save(sess, prefix)
        return [v.op.name for v in tf.compat.v1.global_variables()]


def as_if_trained_elsewhere(folder, elsewhere="/home/trainer/run"):
    """Rewrite the folder's `checkpoint` state file as the machine that trained wrote it: its
    paths absolute, in a folder this machine lacks."""
    state = Path(folder) / "checkpoint"
    lines = []
    for line in state.read_text().splitlines():
        key, path = line.split(": ", 1)
        name = path.strip('"').rsplit("/", 1)[-1]  # '' for a checkpoint of an empty name
        lines.append(f'{key}: "{elsewhere}/{name}"')
    state.write_text("\n".join(lines) + "\n")
