"""restore's TensorFlow work: one ordering of "initialise" and "restore" applied to the graph a
checkpoint's `.meta` file holds, and every variable's value recorded. Imported by restore.py
once its arguments are checked, so that `--help` and argument errors answer without
TensorFlow."""

import contextlib
import logging
import time

from ckptorder import graph_guard, orderings
from ckptorder.checkpoint_files import DATA_SUFFIX
from ckptorder.tfsession import session, tf, variable_values
from ckptorder.values import Values, write_values


def prepare(graph, prefix, settings):
    """Every op the ordering runs, built before the first session.run; returns the actions.
    Raises ValueError for a meta graph that does not load or a partial restore's unknown
    variable."""
    with graph.as_default():
        steps = orderings.steps(settings["ordering"])
        saver = import_meta_graph(prefix + ".meta", steps, settings["trust"])
        variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
        if "initialize_from_checkpoint" in steps:
            # Must come before the initializer op is built: it replaces the initializers.
            tf.compat.v1.train.init_from_checkpoint(prefix, variables)
        initialize_all = tf.compat.v1.global_variables_initializer()
        actions = {
            "initialize_all": lambda sess: sess.run(initialize_all),
            "initialize_from_checkpoint": lambda sess: sess.run(initialize_all),
            "restore_all": lambda sess: saver.restore(sess, prefix),
        }
        if "restore_partial" in steps:
            unknown = sorted(set(settings["partial_variables"]) - set(variables))
            if unknown:
                raise ValueError(
                    f"partial_variables {unknown} not in the checkpoint; it has: {list(variables)}"
                )
            partial = [variables[name] for name in settings["partial_variables"]]
            partial_saver = tf.compat.v1.train.Saver(var_list=partial)
            actions["restore_partial"] = lambda sess: partial_saver.restore(sess, prefix)
        if "initialize_uninitialized" in steps:
            actions["initialize_uninitialized"] = uninitialized_initializer(variables)
    graph.finalize()
    return actions


def import_meta_graph(path, steps, trust):
    """The Saver of the graph the meta file at `path` holds, imported into the default graph
    once the guard has found nothing that `steps` would run to refuse (unless `trust`).
    Raises ValueError where the file is not a meta graph or the guard refuses it."""
    meta_graph = graph_guard.read_meta_graph(path)
    refused = [] if trust else graph_guard.refusals(meta_graph, steps)
    for line in refused:
        logging.info("refused: %s", line)
    if refused:
        more = f" (and {len(refused) - 1} more, listed above)" if len(refused) > 1 else ""
        raise ValueError(
            f"{path}: refused, restoring would run {refused[0]}{more}; set trust: true only"
            " for a checkpoint you trust (its graph then runs as it is)"
        )
    try:
        return tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
    except ValueError:
        raise graph_guard.not_a_meta_graph(path) from None


def uninitialized_initializer(variables):
    """An action that runs the initializers of what report_uninitialized_variables lists."""
    report = tf.compat.v1.report_uninitialized_variables()

    def initialize(sess):
        names = [name.decode() for name in sess.run(report)]
        logging.info("uninitialised before initialising them: %s", names or "none")
        sess.run([variables[name].initializer for name in names])

    return initialize


def apply_ordering(prefix, settings, threads, output, references):
    """Run the ordering's steps in a fresh graph, then write every variable's value to
    `output`, as a reference where it equals a state of `references` (name to values file).
    Raises ValueError (see `prepare`, a bad values file, and a damaged checkpoint: see
    `checkpoint_problem`)."""
    graph = tf.Graph()
    actions = prepare(graph, prefix, settings)
    with graph.as_default(), session(graph, threads) as sess:
        try:
            for step in orderings.steps(settings["ordering"]):
                started = time.perf_counter()
                actions[step](sess)
                logging.info("step %s took %.3f s", step, time.perf_counter() - started)
        except tf.errors.OpError as error:
            problem = checkpoint_problem(error, prefix)
            if problem is None:
                raise
            raise ValueError(problem) from None
        write_values(output, by_source(variable_values(sess), references))


def checkpoint_problem(error, prefix):
    """The damaged file and what is wrong with it, in words; None for other errors."""
    if "not an sstable" in str(error):
        return f"{prefix}.index: not a checkpoint index (damaged, truncated or another file)"
    if isinstance(error, tf.errors.OutOfRangeError):
        return f"{prefix}{DATA_SUFFIX}: truncated (shorter than its index says)"
    if isinstance(error, tf.errors.DataLossError):
        return f"{prefix}{DATA_SUFFIX}: checksum mismatch (the file is damaged)"
    return None


def by_source(values, references):
    """Each (name, value) as (name, state) where the value is bit for bit that state's."""
    with contextlib.ExitStack() as stack:
        opened = {state: stack.enter_context(Values(path)) for state, path in references.items()}
        for name, value in values:
            source = next(
                (state for state, reference in opened.items() if reference.equals(name, value)),
                value,
            )
            logging.info("%s: %s", name, source if isinstance(source, str) else "own values")
            yield name, source
