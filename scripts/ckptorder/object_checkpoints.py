"""The object_ckpt format's TensorFlow work, in TensorFlow 2's behaviour: export writes the
built model as tf.train.Checkpoint files (`object_ckpt.VARIANTS`); load runs each of
`object_ckpt.ORDERINGS` in a fresh graph (graph mode) or on a fresh network (eager) and
records every variable's value, what each of the status object's assertions gives, whether
TensorFlow warned of saved values left unrestored, and the network's output. No graph is read
from a file: the network is `object_network.py`'s code, so there is nothing for the guard to
refuse. Imported by export.py and load.py once their arguments are checked."""

import contextlib
import gc
import json
import logging
import logging.handlers
import time
from pathlib import Path

from ckptorder import orderings, tfgraph
from ckptorder.atomic import write_text
from ckptorder.formats import object_ckpt
from ckptorder.network import INPUT_SHAPE
from ckptorder.object_network import Network, constant_variables
from ckptorder.tfsession import session, tf, use_tf2_behavior
from ckptorder.values import (
    ASSERTIONS_FILE,
    state_paths,
    write_failure,
    write_graph_facts,
    write_values,
)

# The variants export writes, each a folder of export's; `save` names its files ckpt-1.*.
MODEL, MODEL_AND_OPTIMIZER = EXPORTED_VARIANTS = ("model", "model_and_optimizer")
SAVED_AS = "ckpt"


def export(prefix, _graph_path, settings, threads, folder):
    """Write the built checkpoint's weights, in the network `settings` describes, with
    tf.train.Checkpoint.save into `folder`: `model/` the network alone, `model_and_optimizer/`
    with an Adam optimizer's slots after one step at learning rate 0 (real moments, the
    weights unchanged)."""
    use_tf2_behavior(threads)
    saved = dict(built_values(prefix, settings, threads))
    model = trained_network(settings, saved)
    tf.train.Checkpoint(model=model).save(str(folder / MODEL / SAVED_AS))
    model = trained_network(settings, saved)
    optimizer = tf.compat.v1.train.AdamOptimizer(learning_rate=0.0)
    batch = tf.random.stateless_normal((2, *INPUT_SHAPE[1:]), [settings["seed"], 2])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(batch)))
    variables = list(model.variables_by_name().values())
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    checkpoint.save(str(folder / MODEL_AND_OPTIMIZER / SAVED_AS))
    logging.info("wrote object_ckpt model and model_and_optimizer")


def trained_network(settings, saved):
    """The network with the built checkpoint's values (`saved`, by variable name)."""
    model = Network(settings["seed"], settings["extra_layers"]).create()
    for name, variable in model.variables_by_name().items():
        variable.assign(saved[name])
    return model


def audit_object_checkpoints(exported, prefix, _graph_path, settings, threads, folder, inference):
    """Write the references, then the values every ordering of `settings` leaves, its
    assertion results and the `inference` check, into `folder`; `exported`: export's folder
    of the variants, `prefix`: the built TF1 checkpoint (the tf1_saver variant). The
    references: `saved`, the built checkpoint's values; `initial`, what the network's
    initializers give (with the extra variable)."""
    use_tf2_behavior(threads)
    constant = constant_variables(settings["extra_layers"])
    write_graph_facts(folder, unseeded=[], random=[], constant=constant)
    paths = state_paths(folder, orderings.states(settings["orderings"]))
    references = {state: paths[state] for state in orderings.REFERENCES}
    write_values(paths["saved"], built_values(prefix, settings, threads))
    write_values(paths["initial"], initial_values(settings, threads))
    sources = {
        **{v: tf.train.latest_checkpoint(str(Path(exported) / v)) for v in EXPORTED_VARIANTS},
        "tf1_saver": prefix,
        "no_checkpoint": None,
    }
    checks = {}
    for state in settings["orderings"]:
        started = time.perf_counter()
        with tensorflow_warnings() as caught:
            values, checks[state], failed = run_ordering(
                state, settings, sources, threads, inference
            )
        checks[state][object_ckpt.UNRESTORED_WARNING] = unrestored_warning(caught.buffer)
        if failed:
            logging.info("%s failed: %s", state, failed)
            write_failure(paths[state], [name for name, _ in values], failed)
            inference.failed(state, failed)
        else:
            write_values(paths[state], tfgraph.by_source(values, references))
        logging.info("%s: %s; took %.3f s", state, checks[state], time.perf_counter() - started)
    write_text(Path(folder) / ASSERTIONS_FILE, json.dumps(checks, sort_keys=True))
    inference.write(folder)


def run_ordering(state, settings, sources, threads, inference):
    """One ordering on a network of its own, in graph or eager mode: what `in_graph` returns.
    Nothing of its TensorFlow objects outlives it, so their deletion is the ordering's."""
    variant, how = state.split(".")[0], orderings.ordering(state).run
    extra_variable = isinstance(how, object_ckpt.InGraph) and how.extra_variable
    network = Network(settings["seed"], settings["extra_layers"], extra_variable=extra_variable)
    if isinstance(how, object_ckpt.InGraph):
        return in_graph(state, network, sources[variant], how.calls, threads, inference)
    return in_eager(state, network, sources[variant], how.restore_first, inference)


@contextlib.contextmanager
def tensorflow_warnings():
    """Catch TensorFlow's Python warnings, in the yielded handler's `buffer` rather than the
    log, until the objects made inside are deleted (collected on leaving). Freezes every object
    that exists on entering, for the rest of the process (gc.freeze() is not undone): the
    garbage collector never scans them again, which a load job, ending soon after, can afford."""
    logger = tf.get_logger()
    handlers, level, propagate = logger.handlers, logger.level, logger.propagate
    caught = logging.handlers.BufferingHandler(capacity=100_000)
    logger.handlers, logger.propagate = [caught], False
    logger.setLevel(logging.WARNING)
    # What exists now is not made inside: frozen, the collection on leaving skips it (a full
    # one scans all of TensorFlow's objects, 0.2 s each time).
    gc.freeze()
    try:
        yield caught
        gc.collect()
    finally:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def unrestored_warning(records):
    """Whether TensorFlow warned, as a restore's objects were deleted, of values it left
    unrestored ("... is being deleted with unrestored values")."""
    warned = any("deleted with unrestored values" in r.getMessage() for r in records)
    return object_ckpt.WARNS if warned else object_ckpt.SILENT


def built_values(prefix, settings, threads):
    """(name, value) of each of the network's variables as the built checkpoint `prefix` holds
    it. Raises ValueError for a damaged checkpoint."""
    with tf.Graph().as_default():
        network = Network(settings["seed"], settings["extra_layers"]).create()
        shapes = {
            name: (tuple(variable.shape), variable.dtype.name)
            for name, variable in network.variables_by_name().items()
        }
    return tfgraph.saved_values(prefix, shapes, {name: name for name in shapes}, threads)


def initial_values(settings, threads):
    """(name, value) of every variable of the network with the extra variable, as its
    initializers set them in a fresh graph and session."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads) as sess:
        network = Network(settings["seed"], settings["extra_layers"], extra_variable=True).create()
        sess.run(tf.compat.v1.global_variables_initializer())
        return list(tfgraph.readable_values(sess, network.variables_by_name()))


def in_graph(state, network, source, calls, threads, inference):
    """Graph mode: the network's variables in a fresh graph, tf.train.Checkpoint's restore of
    `source`, then `calls` (`object_ckpt.InGraph`) in a session. Returns the variables'
    values (each name with a placeholder where a call raised), the assertions' results and the
    error, if any."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads) as sess:
        network.create()
        status = tf.train.Checkpoint(model=network).restore(source)
        output = network(tf.constant(inference.batch))
        initialize = tf.compat.v1.global_variables_initializer()
        try:
            for call in calls:
                status_call(call, sess, status, initialize)
        except tf.errors.OpError as error:
            return named(network), assertion_results(status), tfgraph.failure(error)
        values = list(tfgraph.readable_values(sess, network.variables_by_name()))
        inference.run(state, sess, output, None)
        return values, assertion_results(status), None


def in_eager(state, network, source, restore_first, inference):
    """Eager mode: tf.train.Checkpoint's restore of `source` before or after the network's
    variables are created (and so initialised). Returns what `in_graph` does."""
    checkpoint = tf.train.Checkpoint(model=network)
    try:
        if restore_first:
            status = checkpoint.restore(source)
            network.create()
        else:
            network.create()
            status = checkpoint.restore(source)
    except tf.errors.OpError as error:
        return named(network), {}, tfgraph.failure(error)
    values = [(name, v.numpy()) for name, v in network.variables_by_name().items()]
    inference.record(state, network(tf.constant(inference.batch)).numpy())
    return values, assertion_results(status), None


def named(network):
    return [(name, None) for name in network.variables_by_name()]


def assertion_results(status):
    """What each of the status object's assertions gives: passes, or the class of what it
    raises (any exception: that is what a caller of it meets)."""
    results = {}
    for assertion in object_ckpt.ASSERTIONS:
        try:
            getattr(status, assertion)()
        except Exception as error:
            results[assertion] = type(error).__name__
        else:
            results[assertion] = object_ckpt.PASSES
    return results


def status_call(call, sess, status, initialize):
    """One of `object_ckpt.InGraph`'s calls: the initializers, or a method of the restore's
    status object."""
    if call == object_ckpt.INITIALIZE:
        sess.run(initialize)
    elif call == object_ckpt.EXPECT_PARTIAL:
        status.expect_partial()
    else:
        getattr(status, call)(sess)
