"""The guard's cost on training graphs of growing size: time and peak memory of checking
what the audit would import of a `.meta` file (`checks.refusals`, with the checkpoint's
budget) and of cutting out that part (`importing.importable`), from the parsed file.

    python bench/guard.py                   # 25,000, 50,000 and 100,000 nodes, each kind
    python bench/guard.py --nodes 1000 2000

Two kinds of graph: a stack of dense layers trained with Adam, saved as TF 1.x saves one
(every layer's kernel and bias, its two Adam slots, the gradients and the Saver's ops), most
of whose nodes are training ops that no restore runs; and a chain of Identity ops in one
initializer, the deepest path a file of that size can hold. Prints a Markdown table: per
graph, the file's size, the nodes the audit imports, the median seconds of --repeat runs and
the guard's peak Python memory (tracemalloc), each per 1,000 nodes too, so that a cost that
grows faster than the graph shows as a growing per-node figure.
"""

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import commands  # noqa: F401  first: it puts scripts/ on the path

# isort: split
from ckptorder import tfgraph
from ckptorder.guard import checks, graph_sizes, importing
from ckptorder.tfsession import session, tf

WIDTH = 4


def training_graph(directory, nodes):
    """A checkpoint's `.meta` file and budget, of a dense stack trained with Adam of about
    `nodes` nodes (the layer count scaled from a 10-layer stack's node count)."""
    per_layer = len(dense_stack(10).as_graph_def().node) / 10
    prefix = str(directory / f"model-{nodes}.ckpt")
    graph = dense_stack(max(1, round(nodes / per_layer)))
    with graph.as_default(), session(graph, 1) as sess:
        saver = tf.compat.v1.train.Saver()
        sess.run(tf.compat.v1.global_variables_initializer())
        saver.save(sess, prefix)
    return f"{prefix}.meta", graph_sizes.budget(tfgraph.checkpoint_keys(prefix))


def dense_stack(depth):
    """A graph of `depth` dense layers, each with a loss, trained with Adam."""
    with tf.Graph().as_default() as graph:
        tf.compat.v1.set_random_seed(1)
        layer = tf.compat.v1.placeholder(tf.float32, [None, WIDTH])
        losses = []
        for n in range(depth):
            with tf.compat.v1.variable_scope(f"dense_{n}"):
                kernel = tf.compat.v1.get_variable("kernel", [WIDTH, WIDTH])
                bias = tf.compat.v1.get_variable(
                    "bias", [WIDTH], initializer=tf.compat.v1.zeros_initializer()
                )
            layer = tf.nn.relu(tf.matmul(layer, kernel) + bias)
            losses.append(tf.reduce_mean(tf.square(layer)))
        tf.compat.v1.train.AdamOptimizer(0.01).minimize(tf.add_n(losses))
    return graph


def chain_graph(directory, nodes):
    """A `.meta` file whose one variable is initialised through a chain of `nodes` Identity
    ops: the deepest path a graph of that size can hold."""
    with tf.Graph().as_default():
        tf.compat.v1.get_variable("v", initializer=tf.zeros([2]))
        meta_graph = tf.compat.v1.train.export_meta_graph(
            saver_def=tf.compat.v1.train.Saver().as_saver_def()
        )
    graph = meta_graph.graph_def
    assign = next(node for node in graph.node if node.name == "v/Assign")
    previous = assign.input[1]
    for n in range(nodes):
        link = graph.node.add(name=f"chain_{n}", op="Identity", input=[previous])
        link.attr["T"].type = tf.float32.as_datatype_enum
        previous = link.name
    assign.input[1] = previous
    path = directory / f"chain-{nodes}.meta"
    path.write_bytes(meta_graph.SerializeToString())
    return path, graph_sizes.budget({})


def measure(path, budget, repeat):
    meta_graph = importing.read_meta_graph(path)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        refused = checks.refusals(meta_graph, budget=budget)
        part = importing.importable(meta_graph)
        seconds.append(time.perf_counter() - started)
    assert refused == [], refused[:3]
    tracemalloc.start()
    checks.refusals(meta_graph, budget=budget)
    importing.importable(meta_graph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "nodes": len(meta_graph.graph_def.node),
        "file MB": Path(path).stat().st_size / 1e6,
        "imported": len(part.graph_def.node),
        "seconds": statistics.median(seconds),
        "peak MB": peak / 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for make in (training_graph, chain_graph):
            for nodes in args.nodes:
                row = measure(*make(Path(directory), nodes), args.repeat)
                rows.append({"graph": make.__name__.removesuffix("_graph"), **row})
                print(rows[-1], flush=True)
    print(
        "| graph | nodes | `.meta` MB | imported | seconds | s / 1,000 nodes | peak MB"
        " | MB / 1,000 nodes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        per = row["nodes"] / 1000
        print(
            f"| {row['graph']} | {row['nodes']:,} | {row['file MB']:.2f} | {row['imported']:,} |"
            f" {row['seconds']:.2f} | {row['seconds'] / per:.4f} | {row['peak MB']:.1f} |"
            f" {row['peak MB'] / per:.3f} |"
        )


if __name__ == "__main__":
    main()
