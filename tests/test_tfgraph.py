"""Reading many variables in few session.run calls: batches bounded by bytes, in order, and an
uninitialized variable among initialized ones."""

import numpy as np

from ckptorder import tfgraph
from ckptorder.tfsession import session, tf
from ckptorder.values import UNINITIALIZED


def test_batches_keep_the_order_and_stay_within_their_bytes():
    with tf.Graph().as_default():
        reads = {f"v{n}": tf.zeros([n + 1, 256]) for n in range(6)}  # 1 KiB per row
        parts = list(tfgraph.batches(reads, limit=4 * 1024))
    assert [name for part in parts for name in part] == list(reads)
    assert [list(part) for part in parts] == [["v0", "v1"], ["v2"], ["v3"], ["v4"], ["v5"]]


def test_an_uninitialized_variable_among_others_reads_as_uninitialized():
    graph = tf.Graph()
    with graph.as_default():
        made = {f"v{n}": tf.compat.v1.get_variable(f"v{n}", initializer=float(n)) for n in range(5)}
        some = tf.compat.v1.variables_initializer([v for n, v in made.items() if n != "v3"])
    with session(graph, 1) as sess:
        sess.run(some)
        read = dict(tfgraph.readable_values(sess, made))
    assert list(read) == list(made)
    assert read.pop("v3") == UNINITIALIZED
    assert {name: float(value) for name, value in read.items()} == {
        "v0": 0.0,
        "v1": 1.0,
        "v2": 2.0,
        "v4": 4.0,
    }
    assert all(isinstance(value, np.ndarray) for value in read.values())
