"""restore's TensorFlow work on one checkpoint: what its graph and files hold (unseeded
initializers, each variable against the checkpoint's keys: `compatibility.py`), its references
(`saved`, every variable as the checkpoint's files hold it under its name or suggested key;
`initial`, as the graph's own initializers set it in a fresh session) and, for each ordering
of "initialise" and "restore", every variable's value after the ordering ran in a fresh graph
of its own. Imported by restore.py once its arguments are checked, so that `--help` and
argument errors answer without TensorFlow."""

import json
import logging
import time
from pathlib import Path

from ckptorder import compatibility, initializer_facts, orderings
from ckptorder.atomic import write_text
from ckptorder.guard import importing
from ckptorder.tfgraph import (
    assignment_map,
    by_source,
    checked_graph,
    checkpoint_keys,
    checkpoint_problem,
    failure,
    graph_variables,
    import_meta_graph,
    listed_variables,
    partitions,
    readable_values,
    saved_values,
    variable_reads,
    with_parts,
)
from ckptorder.tfsession import session, tf, variable_defs
from ckptorder.values import (
    GRAPH_FACTS,
    state_paths,
    write_failure,
    write_values,
)


def audit_checkpoint(prefix, graph_path, settings, threads, folder, inference=None):
    """Write the values of every state (saved, initial, then the orderings) and what restore
    finds of the graph and the checkpoint (`graph_facts`) into `folder`. Raises ValueError
    for a graph that is not a meta graph or that the guard refuses, a partial restore's
    unknown variable and a damaged checkpoint."""
    keys = checkpoint_keys(prefix)
    outputs, batch = ([inference.output_tensor], inference.batch.shape) if inference else ([], None)
    collections = importing.IMPORTED_COLLECTIONS
    if settings["moving_averages"] is not None:
        collections += importing.AVERAGED_COLLECTIONS
    meta_graph = checked_graph(graph_path, settings["trust"], keys, outputs, batch, collections)
    paths = state_paths(folder, orderings.states(settings["orderings"]))
    states = ("initial", *settings["orderings"])
    variables = graph_variables(meta_graph)
    check_partial_variables(settings, list(variables))
    parts = partitions(meta_graph, keys)
    facts = graph_facts(meta_graph, variables, with_parts(keys, parts, variables))
    if settings["moving_averages"] is not None:
        facts["averages"] = moving_averages(meta_graph, settings["moving_averages"], keys)._asdict()
    write_text(Path(folder) / GRAPH_FACTS, json.dumps(facts, sort_keys=True))
    saved = saved_values(prefix, variables, saved_keys(facts), threads, parts)
    write_values(paths["saved"], saved)
    partial = settings["partial_variables"] or []
    run_orderings(
        meta_graph, graph_path, prefix, states, partial, facts, threads, paths, inference, parts
    )
    if inference:
        inference.write(folder)


# The steps that rewire the initializers (init_from_checkpoint): a state that runs one needs an
# import of the graph of its own.
REWIRING = ("initialize_from_checkpoint", "initialize_from_suggested_map")


def run_orderings(
    meta_graph,
    graph_path,
    prefix,
    states,
    partial_variables,
    facts,
    threads,
    paths,
    inference=None,
    parts=None,
):
    """Run each state's steps in a fresh session of an import of `meta_graph` and write its
    values file (of `paths`, which holds the references' too): its values, or the error that
    stopped it; and, given an `Inference`, the network's output after it. What a variable
    holds lives in its session, so the states whose steps leave the initializers as the graph
    has them share one import (on a large graph, the import costs more than the steps); each
    way of rewiring them has one of its own. `partial_variables`: what restore_partial
    restores; `parts`: `partitions`."""
    kinds = {}
    for state in states:
        rewiring = tuple(step for step in orderings.steps(state) if step in REWIRING)
        kinds.setdefault(rewiring, []).append(state)
    variables = list(graph_variables(meta_graph))
    references = {state: paths[state] for state in orderings.REFERENCES}
    for kind in kinds.values():
        started = time.perf_counter()
        graph = tf.Graph()
        with graph.as_default():
            saver = import_meta_graph(meta_graph, graph_path)
            reads = variable_reads(graph, variables)
            steps = {step for state in kind for step in orderings.steps(state)}
            actions, failed = {}, None
            try:
                actions = prepare(graph, saver, prefix, steps, partial_variables, facts, parts)
            except (ValueError, tf.errors.OpError) as error:
                failed = failure(error)
            logging.info("%s: imported in %.3f s", ", ".join(kind), time.perf_counter() - started)
            for state in kind:
                started = time.perf_counter()
                outcome = failed or run_state(
                    actions, reads, prefix, state, threads, paths[state], references, inference
                )
                if outcome:
                    logging.info("%s failed: %s", state, outcome)
                    write_failure(paths[state], variables, outcome)
                    if inference and state not in references:
                        inference.failed(state, outcome)
                logging.info("%s took %.3f s", state, time.perf_counter() - started)


def check_partial_variables(settings, names):
    unknown = sorted(set(settings["partial_variables"] or ()) - set(names))
    if unknown:
        raise ValueError(
            f"partial_restore.variables of checkpoint {settings['checkpoint']}: {unknown} are"
            f" not variables of its graph; it has: {', '.join(names)}"
        )


def graph_facts(meta_graph, variables, keys):
    """What restore finds of the graph and the checkpoint (its `keys`, a partitioned
    variable's parts as keys of their own: `with_parts`) before anything runs: the unseeded
    initializers, the constant ones, those that read other variables, the variable ops no
    collection lists, the compatibility rows and the map they suggest."""
    unseeded = initializer_facts.unseeded(meta_graph)
    logging.info("unseeded initializers: %s", unseeded or "none")
    random = sorted(initializer_facts.random_initializers(meta_graph))
    rows = compatibility.rows(variables, keys)
    for row in rows:
        if row["status"] != "match":
            logging.info("compatibility: %s", row)
    copies = initializer_facts.copying_initializers(meta_graph)
    logging.info("initializers that read other variables: %s", copies or "none")
    unlisted, aliases = unlisted_variables(meta_graph, variables)
    logging.info("variable ops no collection lists: %s", unlisted or "none")
    logging.info("of them, sharing a listed variable's resource: %s", aliases or "none")
    facts = {
        "unseeded": unseeded,
        "random": random,
        "constant": initializer_facts.constant_initializers(meta_graph),
        "unlisted": unlisted,
        "aliases": aliases,
        "compatibility": rows,
        "suggested_map": compatibility.suggested_map(rows),
    }
    warm_started = initializer_facts.checkpoint_initializers(meta_graph)
    logging.info("initializers that read a checkpoint: %s", warm_started or "none")
    # Only where there are some: the graphs without keep the same graph.json.
    return (
        facts
        | ({"copies": copies} if copies else {})
        | ({"warm_started": warm_started} if warm_started else {})
    )


def moving_averages(meta_graph, name, keys):
    """The `MovingAverages` restore_moving_averages reads, by the rule of TensorFlow's
    ExponentialMovingAverage(name=`name`).variables_to_restore() in evaluation code: every
    trainable variable and every one the moving_average_variables collection lists is
    restored from VARIABLE/NAME (whether or not the checkpoint holds it)."""
    averaged = [
        variable.variable_name.removesuffix(":0")
        for collection in ("trainable_variables", "moving_average_variables")
        if collection in meta_graph.collection_def
        for variable in variable_defs(meta_graph, collection)
    ]
    restored_from = {variable: f"{variable}/{name}" for variable in dict.fromkeys(averaged)}
    missing = sorted(key for key in restored_from.values() if key not in keys)
    return orderings.MovingAverages(restored_from, missing)


def saved_keys(facts):
    """The key each variable's saved value is read from: its own name, its suggested key, or,
    for a copy that shares an original's resource, the original's."""
    keys = {name: key for key, name in facts["suggested_map"].items()}
    return keys | {copy: keys[name] for copy, name in facts["aliases"].items() if name in keys}


def unlisted_variables(meta_graph, variables):
    """The variable ops of `variables` the variables collection does not list, and those of
    them that share a listed variable's resource (a resource variable copied by a second
    import keeps the original's `shared_name`, so both ops hold one value): name to the
    listed variable's name."""
    listed = set(listed_variables(meta_graph))
    unlisted = [name for name in variables if name not in listed]
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    aliases = {}
    for name in unlisted:
        shared = (
            nodes[name].attr["shared_name"].s.decode() if nodes[name].op == "VarHandleOp" else ""
        )
        if shared in listed and shared != name:
            aliases[name] = shared
    return unlisted, aliases


def averages_var_list(variables, averages):
    """The map ExponentialMovingAverage.variables_to_restore() gives evaluation code (a graph
    without the shadows): each averaged variable under its shadow's key (`averages`'
    restored_from), every other variable but the shadows under its own name. Called in the
    imported training graph, which holds the shadows, it would name each KEY_1
    (graph.unique_name), keys no checkpoint holds."""
    restored_from = averages["restored_from"]
    shadows = set(restored_from.values())
    return {key: variables[name] for name, key in restored_from.items()} | {
        name: variable
        for name, variable in variables.items()
        if name not in restored_from and name not in shadows
    }


def prepare(graph, saver, prefix, steps, partial_variables, facts, parts=None):
    """Every op the `steps` run, built before the first session.run; returns the actions.
    `facts`: restore's findings (the suggested map, the moving averages). Raises what
    TensorFlow raises while building them (init_from_checkpoint checks the checkpoint's keys
    and shapes here): the failure of the states that run them."""
    suggested_map, averages = facts["suggested_map"], facts.get("averages")
    parts = parts or {}
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
    # Must come before the initializer op is built: it replaces the initializers.
    if "initialize_from_checkpoint" in steps:
        every = {name: name for name in variables}
        tf.compat.v1.train.init_from_checkpoint(prefix, assignment_map(every, variables, parts))
    if "initialize_from_suggested_map" in steps:
        # A variable op no collection lists is no variable init_from_checkpoint can set.
        mapped = {k: n for k, n in suggested_map.items() if n in variables}
        tf.compat.v1.train.init_from_checkpoint(prefix, assignment_map(mapped, variables, parts))
    initialize_all = tf.compat.v1.global_variables_initializer()
    actions = {
        "initialize_all": lambda sess: sess.run(initialize_all),
        "initialize_from_checkpoint": lambda sess: sess.run(initialize_all),
        "initialize_from_suggested_map": lambda sess: sess.run(initialize_all),
    }
    if "restore_all" in steps:
        actions["restore_all"] = lambda sess: saver.restore(sess, prefix)
    if "restore_partial" in steps:
        partial = [variables[name] for name in partial_variables]
        partial_saver = tf.compat.v1.train.Saver(var_list=partial)
        actions["restore_partial"] = lambda sess: partial_saver.restore(sess, prefix)
    if "restore_moving_averages" in steps:
        averages_saver = tf.compat.v1.train.Saver(var_list=averages_var_list(variables, averages))
        actions["restore_moving_averages"] = lambda sess: averages_saver.restore(sess, prefix)
    if "initialize_uninitialized" in steps:
        actions["initialize_uninitialized"] = uninitialized_initializer(variables)
    graph.finalize()
    return actions


def uninitialized_initializer(variables):
    """An action that runs the initializers of what report_uninitialized_variables lists."""
    report = tf.compat.v1.report_uninitialized_variables()

    def initialize(sess):
        names = [name.decode() for name in sess.run(report)]
        logging.info("uninitialised before initialising them: %s", names or "none")
        sess.run([variables[name].initializer for name in names])

    return initialize


def run_state(actions, reads, prefix, state, threads, output, references, inference=None):
    """Run the state's `actions` (from `prepare`) in the default graph, then
    write every variable's value (`reads`: see `variable_reads`) to `output`, as a reference
    where it equals a state of `references` (name to values file), and run the `inference`
    check of an ordering. Returns None, or the error (its class and first line) that stopped a
    step: the ordering's result. Raises ValueError for a damaged checkpoint (see
    `checkpoint_problem`)."""
    # Without the inference check the session runs no network: no rewrite to wait for.
    with session(tf.compat.v1.get_default_graph(), threads, rewrite=bool(inference)) as sess:
        try:
            for step in orderings.steps(state):
                started = time.perf_counter()
                actions[step](sess)
                logging.info("%s: step %s took %.3f s", state, step, time.perf_counter() - started)
        except tf.errors.OpError as error:
            problem = checkpoint_problem(error, prefix)
            if problem is not None:
                raise ValueError(problem) from None
            return failure(error)
        values = readable_values(sess, reads)
        if state in references:
            write_values(output, values)
            return None
        write_values(output, by_source(values, references))
        if inference:
            inference.run(state, sess, inference.output_tensor, inference.feed())
    return None
