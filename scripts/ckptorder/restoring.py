"""restore's TensorFlow work on one checkpoint: what its graph and files hold (unseeded
initializers, each variable against the checkpoint's keys: `compatibility.py`), its references
(`saved`, every variable as the checkpoint's files hold it under its name or suggested key;
`initial`, as the graph's own initializers set it in a fresh session) and, for each ordering
of "initialise" and "restore", every variable's value after the ordering ran in a fresh graph
of its own. Imported by restore.py once its arguments are checked, so that `--help` and
argument errors answer without TensorFlow."""

import contextlib
import itertools
import json
import logging
import os
import time
from pathlib import Path

from ckptorder import checkpoint_files, compatibility, graph_guard, graph_sizes, orderings
from ckptorder.atomic import write_text
from ckptorder.graph_guard import node_name
from ckptorder.network import INPUT
from ckptorder.tfsession import session, tf, variable_defs
from ckptorder.values import (
    GRAPH_FACTS,
    UNINITIALIZED,
    Values,
    state_paths,
    write_failure,
    write_values,
)


def audit(prefix, graph_path, settings, threads, folder, inference=None):
    """Write the values of every state (saved, initial, then the orderings) and what restore
    finds of the graph and the checkpoint (`graph_facts`) into `folder`. Raises ValueError
    for a graph that is not a meta graph or that the guard refuses, a partial restore's
    unknown variable and a damaged checkpoint."""
    keys = checkpoint_keys(prefix)
    outputs = [inference.output_tensor] if inference else []
    fed_shapes = {node_name(INPUT): inference.batch.shape} if inference else {}
    meta_graph = checked_graph(
        graph_guard.read_meta_graph(graph_path),
        graph_path,
        settings["trust"],
        outputs=outputs,
        fed_shapes=fed_shapes,
        budget=graph_sizes.budget(keys),
    )
    paths = state_paths(folder, orderings.states(settings["orderings"]))
    states = ("initial", *settings["orderings"])
    variables = graph_variables(meta_graph)
    check_partial_variables(settings, list(variables))
    facts = graph_facts(meta_graph, variables, keys)
    write_text(Path(folder) / GRAPH_FACTS, json.dumps(facts, sort_keys=True))
    write_values(paths["saved"], saved_values(prefix, variables, saved_keys(facts), threads))
    for state in states:
        run_ordering(
            meta_graph, graph_path, prefix, state, settings, facts, threads, paths, inference
        )
    if inference:
        inference.write(folder)


def run_ordering(
    meta_graph, graph_path, prefix, state, settings, facts, threads, paths, inference=None
):
    """Run one state's steps in a fresh graph of `meta_graph` and write its values file (of
    `paths`, which holds the references' too): its values, or the error that stopped it; and,
    given an `Inference`, the network's output after it."""
    started = time.perf_counter()
    references = {state: paths[state] for state in orderings.REFERENCES}
    variables = list(graph_variables(meta_graph))
    graph = tf.Graph()
    with graph.as_default():
        saver = import_meta_graph(meta_graph, graph_path)
        reads = variable_reads(graph, variables)
        try:
            actions = prepare(graph, saver, prefix, state, settings, facts["suggested_map"])
        except (ValueError, tf.errors.OpError) as error:
            failed = failure(error)
        else:
            failed = run_state(
                actions, reads, prefix, state, threads, paths[state], references, inference
            )
    if failed:
        logging.info("%s failed: %s", state, failed)
        write_failure(paths[state], variables, failed)
        if inference and state not in references:
            inference.failed(state, failed)
    logging.info("%s took %.3f s", state, time.perf_counter() - started)


def checked_graph(meta_graph, path, trust, fetches=(), outputs=(), fed_shapes=None, budget=None):
    """The part of `meta_graph` (read from `path`) the audit imports (`graph_guard.importable`:
    what its steps, `fetches` and the inference check's `outputs` run). Unless `trust`, the
    guard checks that part first (`graph_guard.refusals`): raises ValueError naming the first
    op it refuses, each logged."""
    if not trust:
        refused = graph_guard.refusals(meta_graph, fetches, outputs, fed_shapes, budget)
        for line in refused:
            logging.info("refused: %s", line)
        if refused:
            more = f" (and {len(refused) - 1} more, listed above)" if len(refused) > 1 else ""
            raise ValueError(
                f"{path}: refused, restoring would run {refused[0]}{more}; set trust: true only"
                " for a checkpoint you trust (its graph then runs as it is)"
            )
    return graph_guard.importable(meta_graph, fetches, outputs)


def check_partial_variables(settings, names):
    unknown = sorted(set(settings["partial_variables"] or ()) - set(names))
    if unknown:
        raise ValueError(
            f"partial_restore.variables of checkpoint {settings['checkpoint']}: {unknown} are"
            f" not variables of its graph; it has: {', '.join(names)}"
        )


def checkpoint_keys(prefix):
    """Each key of the checkpoint: name to (shape, dtype name). Raises ValueError for a
    damaged index."""
    try:
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    except tf.errors.OpError as error:
        raise ValueError(checkpoint_problem(error, prefix) or error.message) from None
    dtypes = reader.get_variable_to_dtype_map()
    keys = {
        key: (tuple(shape), dtypes[key].name)
        for key, shape in reader.get_variable_to_shape_map().items()
    }
    check_declared_sizes(prefix, keys)
    return keys


def check_declared_sizes(prefix, keys):
    """Raises ValueError where the index declares more bytes of tensors than its data files
    hold: reading them would allocate what the index says (a crafted one could ask for
    terabytes)."""
    numeric = [(shape, dtype) for shape, dtype in keys.values() if dtype != "string"]
    declared = sum(graph_sizes.tensor_bytes(shape, dtype) for shape, dtype in numeric)
    if declared > sum(os.path.getsize(path) for path in checkpoint_files.data_files(prefix)):
        raise ValueError(truncated(prefix))


def graph_facts(meta_graph, variables, keys):
    """What restore finds of the graph and the checkpoint before anything runs: the unseeded
    initializers, the variable ops no collection lists, the compatibility rows and the map
    they suggest."""
    unseeded = graph_guard.unseeded(meta_graph)
    logging.info("unseeded initializers: %s", unseeded or "none")
    random = sorted(graph_guard.random_initializers(meta_graph))
    rows = compatibility.rows(variables, keys)
    for row in rows:
        if row["status"] != "match":
            logging.info("compatibility: %s", row)
    unlisted, aliases = unlisted_variables(meta_graph, variables)
    logging.info("variable ops no collection lists: %s", unlisted or "none")
    logging.info("of them, sharing a listed variable's resource: %s", aliases or "none")
    return {
        "unseeded": unseeded,
        "random": random,
        "unlisted": unlisted,
        "aliases": aliases,
        "compatibility": rows,
        "suggested_map": compatibility.suggested_map(rows),
    }


def saved_keys(facts):
    """The key each variable's saved value is read from: its own name, its suggested key, or,
    for a copy that shares an original's resource, the original's."""
    keys = {name: key for key, name in facts["suggested_map"].items()}
    return keys | {copy: keys[name] for copy, name in facts["aliases"].items() if name in keys}


def saved_values(prefix, variables, keys, threads):
    """Each graph variable's value as the checkpoint holds it under the key `keys` gives it
    (variable to key), read from the files by RestoreV2 ops of their own (TensorFlow's reader
    would hide a damaged file's error class); `variables`: name to (shape, dtype name)."""
    graph = tf.Graph()
    with graph.as_default():
        reads = {
            name: tf.raw_ops.RestoreV2(
                prefix=prefix,
                tensor_names=[key],
                shape_and_slices=[""],
                dtypes=[variables[name][1]],
            )[0]
            for name, key in keys.items()
        }
    with session(graph, threads) as sess, checkpoint_errors(prefix):
        for name in variables:
            if name in reads:
                yield name, sess.run(reads[name])


def graph_variables(meta_graph):
    """Each global variable of the graph, then each variable op the variables collection does
    not list (a graph imported twice: tensorflow/tensorflow#6774): name to (shape, dtype
    name), from its op's node."""
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    unlisted = [n.name for n in meta_graph.graph_def.node if n.op in graph_guard.VARIABLE_NODE_OPS]
    found = {}
    for name in dict.fromkeys([*listed_variables(meta_graph), *unlisted]):
        attr = nodes[name].attr
        shape = tuple(dim.size for dim in attr["shape"].shape.dim)
        found[name] = shape, tf.as_dtype(attr["dtype"].type).name
    return found


def listed_variables(meta_graph):
    """The names the variables collection lists, in its order (a name twice if listed twice)."""
    return [v.variable_name.removesuffix(":0") for v in variable_defs(meta_graph)]


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


def variable_reads(graph, variables):
    """What to fetch to read each variable of `variables` (names) in the imported graph: the
    global variable itself, or a read of a variable op no collection lists."""
    listed = {v.op.name: v for v in tf.compat.v1.global_variables()}
    reads = {}
    for name in variables:
        if name in listed:
            reads[name] = listed[name]
        elif graph.get_operation_by_name(name).type == "VarHandleOp":
            handle = graph.get_tensor_by_name(f"{name}:0")
            dtype = graph.get_operation_by_name(name).get_attr("dtype")
            reads[name] = tf.raw_ops.ReadVariableOp(resource=handle, dtype=dtype)
        else:
            reads[name] = graph.get_tensor_by_name(f"{name}:0")
    return reads


def import_meta_graph(meta_graph, path):
    """The Saver of `meta_graph` (read from `path`: what `checked_graph` gives), imported into
    the default graph. Raises ValueError with TensorFlow's own words where it cannot be
    imported."""
    try:
        return tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
    except (ValueError, KeyError, TypeError, tf.errors.OpError) as error:
        words = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path}: TensorFlow cannot import its graph: {words}") from None


def prepare(graph, saver, prefix, state, settings, suggested_map):
    """Every op the state's steps run, built before the first session.run; returns the
    actions. Raises what TensorFlow raises while building them (init_from_checkpoint checks
    the checkpoint's keys and shapes here): the state's failure."""
    steps = orderings.steps(state)
    variables = {v.op.name: v for v in tf.compat.v1.global_variables()}
    # Must come before the initializer op is built: it replaces the initializers.
    if "initialize_from_checkpoint" in steps:
        tf.compat.v1.train.init_from_checkpoint(prefix, variables)
    if "initialize_from_suggested_map" in steps:
        # A variable op no collection lists is no variable init_from_checkpoint can set.
        mapped = {k: variables[n] for k, n in suggested_map.items() if n in variables}
        tf.compat.v1.train.init_from_checkpoint(prefix, mapped)
    initialize_all = tf.compat.v1.global_variables_initializer()
    actions = {
        "initialize_all": lambda sess: sess.run(initialize_all),
        "initialize_from_checkpoint": lambda sess: sess.run(initialize_all),
        "initialize_from_suggested_map": lambda sess: sess.run(initialize_all),
    }
    if "restore_all" in steps:
        actions["restore_all"] = lambda sess: saver.restore(sess, prefix)
    if "restore_partial" in steps:
        partial = [variables[name] for name in settings["partial_variables"]]
        partial_saver = tf.compat.v1.train.Saver(var_list=partial)
        actions["restore_partial"] = lambda sess: partial_saver.restore(sess, prefix)
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
    with session(tf.compat.v1.get_default_graph(), threads) as sess:
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


def failure(error):
    """TensorFlow's error class and the line that says what went wrong: in a graph execution
    error the kernel's own message (the line after `Node: ...`, e.g. "Key x not found in
    checkpoint", or, in a function's error, after the first line), else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    pairs = list(itertools.pairwise(lines))
    kernel = [after for line, after in pairs if line.startswith("Node: ")] or [
        after for line, after in pairs[:1] if line == "Graph execution error:"
    ]
    return f"{type(error).__name__}: {(kernel or lines or [''])[0]}"


def readable_values(sess, reads):
    """(name, value) of every variable of `reads` (name to what to fetch), fetched one at a
    time to hold one copy at most; UNINITIALIZED for a variable that reading raises for."""
    for name, read in reads.items():
        try:
            yield name, sess.run(read)
        except tf.errors.FailedPreconditionError:
            yield name, UNINITIALIZED


@contextlib.contextmanager
def checkpoint_errors(prefix):
    """Raise TensorFlow's error from reading the checkpoint `prefix` as ValueError: the damaged
    file and what is wrong with it (`checkpoint_problem`), else TensorFlow's message."""
    try:
        yield
    except tf.errors.OpError as error:
        raise ValueError(checkpoint_problem(error, prefix) or error.message) from None


def checkpoint_problem(error, prefix):
    """The damaged file and what is wrong with it, in words; None for other errors."""
    if "not an sstable" in str(error):
        return f"{prefix}.index: not a checkpoint index (damaged, truncated or another file)"
    if isinstance(error, tf.errors.OutOfRangeError):
        return truncated(prefix)
    if isinstance(error, tf.errors.DataLossError):
        return f"{data_files_named(prefix)}: checksum mismatch (the file is damaged)"
    return None


def truncated(prefix):
    return f"{data_files_named(prefix)}: truncated (shorter than its index says)"


def data_files_named(prefix):
    """The checkpoint's data file, or its shards as a pattern."""
    shards = checkpoint_files.data_files(prefix)
    return shards[0] if len(shards) == 1 else f"{prefix}.data-*"


def by_source(values, references):
    """Each (name, value) as (name, state) where the value is bit for bit that state's."""
    with contextlib.ExitStack() as stack:
        opened = {state: stack.enter_context(Values(path)) for state, path in references.items()}
        for name, value in values:
            source = next(
                (
                    state
                    for state, reference in opened.items()
                    if not isinstance(value, str)
                    and reference.readable(name)
                    and reference.equals(name, value)
                ),
                value,
            )
            logging.info("%s: %s", name, source if isinstance(source, str) else "own values")
            yield name, source
