"""load's TensorFlow work: every ordering of a format the built model was exported in (a
variant, loaded one way: `formats.savedmodel` and `formats.frozen_pb`), each in a fresh graph
and session, every variable's value after it and the network's output on build's fixed batch.
The references are the built checkpoint's: `saved`, as its files hold each variable;
`initial`, as its graph's initializers set it in a fresh session. Imported by load.py once
its arguments are checked."""

import logging
import time
from pathlib import Path

from ckptorder import initializer_facts, network, orderings, restoring, tfgraph
from ckptorder.formats import frozen_pb, savedmodel
from ckptorder.guard import checks, graph_sizes, savedmodel_parts
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
    restoring.run_orderings(meta_graph, graph_path, prefix, ["initial"], [], facts, threads, paths)
    references = {state: paths[state] for state in orderings.REFERENCES}
    for state in settings["orderings"]:
        started = time.perf_counter()
        variant, how = state.split(".")[0], orderings.ordering(state).run
        refused = None
        if not settings["trust"]:
            refused = refusal(Path(exported), variant, how, variables, inference, budget)
        graph = tf.Graph()
        with graph.as_default(), session(graph, threads) as sess:
            if refused:
                logging.info("%s refused: %s", state, refused)
                write_failure(paths[state], variables, refused)
                inference.failed(state, refused)
                continue
            try:
                reads, output, feed = run_load(
                    how, sess, Path(exported), variant, variables, inference
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


def refusal(exported, variant, how, variables, inference, budget):
    """The guard's first objection to what the load `how` would run of the variant's file (its
    restore, its init op where the load runs it, the variables' reads, the inference check),
    or None; `budget`: the bytes a tensor may take."""
    if isinstance(how, frozen_pb.ImportGraphDef):
        meta_graph = tf.compat.v1.MetaGraphDef()
        meta_graph.graph_def.ParseFromString((exported / f"{variant}.pb").read_bytes())
        fetches = list(variables)
    else:
        meta_graph = saved_meta_graph(exported / variant)
        fetches = savedmodel_parts.init_ops(meta_graph) if how.runs_init_op else []
    outputs, fed = [inference.output_tensor], {network.INPUT: inference.batch.shape}
    found = checks.refusals(meta_graph, fetches, outputs, fed, budget)
    return orderings.guard_refusal(found)


def run_load(how, sess, exported, variant, variables, inference):
    """Carry out the load `how` (its ordering's `run`) of the variant in export's folder
    `exported`. Returns what to fetch to read each variable, the output tensor and its feed."""
    if isinstance(how, savedmodel.LoaderLoad):
        return loader_load(sess, exported, variant, variables, inference, how.then_initialize)
    if isinstance(how, savedmodel.LoadV2):
        return load_v2(sess, exported, variant, variables, inference, how.run)
    if isinstance(how, frozen_pb.ImportGraphDef):
        return frozen_import(sess, exported, variant, variables, inference)
    raise TypeError(f"no load of an exported format carries out {how!r}")


def loader_load(sess, exported, variant, variables, inference, then_initialize):
    """tf.compat.v1.saved_model.loader.load (the variables' restore, then the init op); then,
    if asked, the user's own initializers."""
    tf.compat.v1.saved_model.loader.load(sess, tfgraph.SERVE, str(exported / variant))
    reads = tfgraph.variable_reads(sess.graph, variables)
    if then_initialize:
        sess.run(tf.compat.v1.global_variables_initializer())
    return reads, inference.output_tensor, inference.feed()


def load_v2(sess, exported, variant, variables, inference, run):
    """tf.saved_model.load in graph mode, then the ops of `run` (`savedmodel.LoadV2`; the
    saved_model_initializers it asks for are its variables' restore: they are reference
    variables it cannot lift out of the loaded function). Each variable is read through a
    pruned function of its read op; the output comes from the serving signature, called on
    the batch."""
    loaded = tf.saved_model.load(str(exported / variant), tags=tfgraph.SERVE)
    reads = {name: loaded.prune([], [f"{name}/read:0"])()[0] for name in variables}
    output = loaded.signatures[tfgraph.SIGNATURE](input=tf.constant(inference.batch))["output"]
    tfgraph.run_after_load_v2(sess, run)
    return reads, output, None


def frozen_import(sess, exported, variant, variables, inference):
    """import_graph_def of the variant's frozen GraphDef; each variable is now a constant of
    its name."""
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((exported / f"{variant}.pb").read_bytes())
    tf.compat.v1.import_graph_def(graph_def, name="")
    reads = {name: sess.graph.get_tensor_by_name(f"{name}:0") for name in variables}
    return reads, inference.output_tensor, inference.feed()
