"""load's TensorFlow work: every ordering of a format the built model was exported in (a
variant, loaded one way: `orderings.FORMATS`), each in a fresh graph and session, every
variable's value after it and the network's output on build's fixed batch. The references are
the built checkpoint's: `saved`, as its files hold each variable; `initial`, as its graph's
initializers set it in a fresh session. Imported by load.py once its arguments are checked."""

import logging
import time
from pathlib import Path

from ckptorder import initializer_facts, network, orderings, restoring, tfgraph
from ckptorder.guard import checks, graph_sizes
from ckptorder.tfsession import saved_meta_graph, session, tf
from ckptorder.values import state_paths, write_failure, write_graph_facts, write_values


def audit_exported(exported, prefix, graph_path, settings, threads, folder, inference):
    """Write the references, then the values every ordering of `settings` leaves, the graph's
    facts and the `inference` check into `folder`; `exported`: export's folder of the
    format's variants."""
    keys = tfgraph.checkpoint_keys(prefix)
    budget = graph_sizes.budget(keys)
    meta_graph = tfgraph.checked_graph(
        graph_path, settings["trust"], keys, [inference.output_tensor], inference.batch.shape
    )
    variables = tfgraph.graph_variables(meta_graph)
    facts = write_graph_facts(
        folder,
        unseeded=initializer_facts.unseeded(meta_graph),
        random=sorted(initializer_facts.random_initializers(meta_graph)),
        constant=initializer_facts.constant_initializers(meta_graph),
    )
    paths = state_paths(folder, orderings.states(settings["orderings"]))
    keys = {name: name for name in variables}
    write_values(paths["saved"], tfgraph.saved_values(prefix, variables, keys, threads))
    no_partial = {"partial_variables": None}
    restoring.run_orderings(
        meta_graph, graph_path, prefix, ["initial"], no_partial, facts, threads, paths
    )
    references = {state: paths[state] for state in orderings.REFERENCES}
    for state in settings["orderings"]:
        started = time.perf_counter()
        format_, variant, load = orderings.variant_and_load(state)
        refused = None
        if not settings["trust"]:
            refused = refusal(Path(exported), format_, variant, load, variables, inference, budget)
        graph = tf.Graph()
        with graph.as_default(), session(graph, threads) as sess:
            if refused:
                logging.info("%s refused: %s", state, refused)
                write_failure(paths[state], variables, refused)
                inference.failed(state, refused)
                continue
            try:
                reads, output, feed = LOAD_FUNCTIONS[load](
                    sess, Path(exported), variant, variables, inference
                )
            except tf.errors.OpError as error:
                failed = tfgraph.failure(error)
                logging.info("%s failed: %s", state, failed)
                write_failure(paths[state], variables, failed)
                inference.failed(state, failed)
            else:
                values = tfgraph.readable_values(sess, reads)
                write_values(paths[state], tfgraph.by_source(values, references))
                inference.run(state, sess, output, feed)
        logging.info("%s took %.3f s", state, time.perf_counter() - started)
    inference.write(folder)


def refusal(exported, format_, variant, load, variables, inference, budget):
    """The guard's first objection to what the load would run of the variant's file (its
    restore, its init op where the load runs it, the variables' reads, the inference check),
    or None; `budget`: the bytes a tensor may take."""
    if format_ == "savedmodel":
        meta_graph = saved_meta_graph(exported / variant)
        runs_init_op = "init_op" in orderings.SAVEDMODEL_LOADS[load].steps
        fetches = init_ops(meta_graph) if runs_init_op else []
    else:
        meta_graph = tf.compat.v1.MetaGraphDef()
        meta_graph.graph_def.ParseFromString((exported / f"{variant}.pb").read_bytes())
        fetches = list(variables)
    outputs, fed = [inference.output_tensor], {network.INPUT: inference.batch.shape}
    found = checks.refusals(meta_graph, fetches, outputs, fed, budget)
    return orderings.guard_refusal(found)


def init_ops(meta_graph):
    """The init op a SavedModel's loader runs after its restore, where it has one."""
    signature = meta_graph.signature_def.get("__saved_model_init_op")
    if signature is not None:
        return [signature.outputs["__saved_model_init_op"].name]
    return [
        name
        for key in ("saved_model_main_op", "legacy_init_op")
        if key in meta_graph.collection_def
        for name in meta_graph.collection_def[key].node_list.value
    ]


def loader_load(sess, exported, variant, variables, inference, then_initialize=False):
    """tf.compat.v1.saved_model.loader.load (the variables' restore, then the init op); then,
    if asked, the user's own initializers. Returns what to fetch to read each variable, the
    output tensor and its feed."""
    tf.compat.v1.saved_model.loader.load(sess, tfgraph.SERVE, str(exported / variant))
    reads = tfgraph.variable_reads(sess.graph, variables)
    if then_initialize:
        sess.run(tf.compat.v1.global_variables_initializer())
    return reads, inference.output_tensor, inference.feed()


def loader_load_then_init(*args):
    return loader_load(*args, then_initialize=True)


def load_v2(sess, exported, variant, variables, inference, run):
    """tf.saved_model.load in graph mode, then the `run` collections of ops: `restore`, the
    saved_model_initializers it asks for (its variables are reference variables it cannot
    lift out of the loaded function); `tables`, tables_initializer, which runs the init op;
    `global`, global_variables_initializer. Each variable is read through a pruned function
    of its read op; the output comes from the serving signature, called on the batch."""
    loaded = tf.saved_model.load(str(exported / variant), tags=tfgraph.SERVE)
    reads = {name: loaded.prune([], [f"{name}/read:0"])()[0] for name in variables}
    output = loaded.signatures[tfgraph.SIGNATURE](input=tf.constant(inference.batch))["output"]
    ops = {
        "restore": tf.compat.v1.get_collection("saved_model_initializers"),
        "tables": tf.compat.v1.tables_initializer(),
        "global": tf.compat.v1.global_variables_initializer(),
    }
    for name in run:
        sess.run(ops[name])
    return reads, output, None


def frozen_import(sess, exported, variant, variables, inference):
    """import_graph_def of the variant's frozen GraphDef; each variable is now a constant of
    its name."""
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((exported / f"{variant}.pb").read_bytes())
    tf.compat.v1.import_graph_def(graph_def, name="")
    reads = {name: sess.graph.get_tensor_by_name(f"{name}:0") for name in variables}
    return reads, inference.output_tensor, inference.feed()


LOAD_FUNCTIONS = {
    "loader_load": loader_load,
    "loader_load_then_init": loader_load_then_init,
    "load_v2_restore": lambda *args: load_v2(*args, run=["restore"]),
    "load_v2_restore_then_tables": lambda *args: load_v2(*args, run=["restore", "tables"]),
    "load_v2_global_init": lambda *args: load_v2(*args, run=["global"]),
    "import_graph_def": frozen_import,
}
