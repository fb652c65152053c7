"""A SavedModel brought from outside (a `checkpoints:` entry whose prefix is its folder),
loaded each way that applies to it, each variable read after each load and compared, by its
checkpoint key, with what the SavedModel's `variables/variables` holds.

Whatever wrote it (TF1's saved_model.Builder, tf.saved_model.save, Keras's model.export()), a
variable is named by its key in `variables/variables`: a TF1 variable's name, or the path of
a TF2 object (`model/dense/kernel`, the key without `/.ATTRIBUTES/VARIABLE_VALUE`). A TF2
SavedModel's graph names its variable ops as it likes (`Variable_3`): the graph's variable
each key is restored into is read off the restore op (`restored_variables`), and after an eager
load the object each key belongs to is found by its path (`object_paths.object_variables`).
The process runs with TF2's behaviour (eager); the graph-mode loads run in graphs of their own.
"""

import contextlib
import logging
import tempfile
import time
from pathlib import Path

from ckptorder import initializer_facts, orderings, signatures, tfgraph
from ckptorder.checkpoint_files import SAVED_MODEL_VARIABLES
from ckptorder.formats import given_savedmodel, savedmodel
from ckptorder.guard import checks, graph_sizes, importing, op_table, savedmodel_parts
from ckptorder.guard.graph_program import GRAPH, Program, node_name, walk
from ckptorder.object_paths import VALUE_SUFFIX, object_variables, variable_keys, variable_name
from ckptorder.orderings import UNINITIALIZED
from ckptorder.tfsession import (
    SavedModel,
    loader_tags,
    saved_meta_graph,
    session,
    tf,
    use_tf2_behavior,
    variable_defs,
)
from ckptorder.values import state_paths, write_failure, write_graph_facts, write_values

# What the loads read of a SavedModel's folder besides its saved_model.pb.
READ_BESIDE = ("variables", "assets")


def variables_prefix(folder):
    return str(Path(folder) / SAVED_MODEL_VARIABLES)


def restored_variables(meta_graph):
    """Each checkpoint key the SavedModel's restore op assigns, to the graph's variable op it
    assigns it to: from each RestoreV2 the restore op reaches (in the graph, or in a function it
    calls, as a TF2 SavedModel's restore function) along Identity ops to an Assign or
    AssignVariableOp, whose variable is a graph node or the function's argument its caller
    binds to one."""
    program = Program(meta_graph.graph_def)
    reached = walk(program, [node_name(meta_graph.saver_def.restore_op_name)])
    consumers, callers = {}, {}
    for key in reached:
        for position, source in enumerate(program.inputs(key)):
            if source is not None and source[1] >= 0:
                consumers.setdefault(source, []).append((key, position))
        for function in program.called(key):
            callers.setdefault(function, []).append(key)
    found = {}
    for key in reached:
        node = program.node(key)
        if node.op != "RestoreV2":
            continue
        names = program.node((key[0], node_name(node.input[1])))
        for index, name in enumerate(tf.make_ndarray(names.attr["value"].tensor)):
            for variable in assigned(program, (key, index), consumers, callers):
                found[name.decode()] = variable
    return found


def assigned(program, tensor, consumers, callers):
    """The graph variable ops `tensor` (a node key and output index) is assigned to."""
    variables = []
    for key, position in consumers.get(tensor, []):
        node = program.node(key)
        if node.op == "Identity" and position == 0:
            variables += assigned(program, (key, 0), consumers, callers)
        elif node.op in ("Assign", "AssignVariableOp") and position == 1:
            variables += bound_variables(program, key[0], node.input[0], callers)
    return variables


def bound_variables(program, scope, name, callers):
    """The graph node `name` is in `scope` (a function's argument: what each call binds it to)."""
    if scope is GRAPH:
        return [node_name(name)]
    arguments = [argument.name for argument in program.functions[scope].signature.input_arg]
    if name not in arguments:
        return []
    position = arguments.index(name)
    return [
        node_name(program.node(caller).input[position])
        for caller in callers.get(scope, [])
        if caller[0] is GRAPH and position < len(program.node(caller).input)
    ]


def graph_reads(graph, mapping, keys):
    """What to fetch to read each key's variable in the loaded `graph`."""
    reads = {}
    for key in keys:
        op = graph.get_operation_by_name(mapping[key])
        if op.type == "VarHandleOp":
            reads[key] = tf.raw_ops.ReadVariableOp(
                resource=op.outputs[0], dtype=op.get_attr("dtype")
            )
        else:
            reads[key] = op.outputs[0]
    return reads


def loader_load(folder, meta_graph, mapping, keys, threads, signatures, then_initialize):
    """tf.compat.v1.saved_model.loader.load of `meta_graph` in a graph of its own (its restore,
    then its init op), then, if asked, global_variables_initializer(): each key's value,
    UNINITIALIZED where reading raises; then the `signatures` (a `signatures.Runner`) run."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads, rewrite=False) as sess:
        tf.compat.v1.saved_model.loader.load(sess, loader_tags(meta_graph), str(folder))
        if then_initialize:
            sess.run(tf.compat.v1.global_variables_initializer())
        values = dict(tfgraph.readable_values(sess, graph_reads(graph, mapping, keys)))
        signatures.in_graph(sess, graph)
        return values


def load_v2_eager(folder, meta_graph, mapping, keys, signatures):
    """tf.saved_model.load, eager: each key's value; UNINITIALIZED for a key no loaded object
    holds; then the `signatures` run."""
    loaded = tf.saved_model.load(str(folder), tags=loader_tags(meta_graph))
    reads = loaded_reads(loaded, meta_graph, mapping, keys)
    values = {key: reads[key].numpy() if key in reads else UNINITIALIZED for key in keys}
    signatures.functions(loaded, None)
    return values


def load_v2_graph(folder, meta_graph, mapping, keys, threads, signatures, run):
    """tf.saved_model.load in a graph of its own, then the ops of `run`
    (`tfgraph.run_after_load_v2`). Each key's value, UNINITIALIZED where reading raises; then
    the `signatures` run."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads, rewrite=False) as sess:
        loaded = tf.saved_model.load(str(folder), tags=loader_tags(meta_graph))
        reads = loaded_reads(loaded, meta_graph, mapping, keys)
        tfgraph.run_after_load_v2(sess, run)
        values = dict(tfgraph.readable_values(sess, initialized(sess, reads)))
        signatures.functions(loaded, sess)
    return {key: values.get(key, UNINITIALIZED) for key in keys}


def initialized(sess, reads):
    """The reads of `reads` to run: a TF2 object's variable only where it is initialized (asked
    in one call: reading the others one by one, each a new set of fetches, costs a graph
    pruning each), as its value; a TF1 SavedModel's reads all."""
    variables = {key: read for key, read in reads.items() if isinstance(read, tf.Variable)}
    if not variables:
        return reads
    flags = sess.run({key: variable.is_initialized() for key, variable in variables.items()})
    return {key: variable.value() for key, variable in variables.items() if flags[key]}


def loaded_reads(loaded, meta_graph, mapping, keys):
    """A read of each key's variable in what tf.saved_model.load gave: a TF2 object's variable,
    by its path; a TF1 SavedModel loads as one object whose variables are read through a
    function pruned to their snapshots (the variables collection's reads), one for all."""
    if any(key.endswith(VALUE_SUFFIX) for key in keys):
        held = object_variables(loaded)
        return {key: held[key] for key in keys if key in held}
    snapshots = {node_name(v.variable_name): v.snapshot_name for v in variable_defs(meta_graph)}
    read = [key for key in keys if mapping.get(key) in snapshots]
    values = loaded.prune([], [snapshots[mapping[key]] for key in read])() if read else []
    return dict(zip(read, values, strict=True))


def run_load(how, folder, meta_graph, mapping, keys, threads, signatures):
    """Carry out the load `how` (its ordering's `run`): each key's value, as the load
    functions give them."""
    if isinstance(how, savedmodel.LoaderLoad):
        return loader_load(
            folder, meta_graph, mapping, keys, threads, signatures, how.then_initialize
        )
    if isinstance(how, savedmodel.LoadV2):
        return load_v2_graph(folder, meta_graph, mapping, keys, threads, signatures, how.run)
    if isinstance(how, given_savedmodel.LoadV2Eager):
        return load_v2_eager(folder, meta_graph, mapping, keys, signatures)
    raise TypeError(f"no load of a SavedModel carries out {how!r}")


def audit_given_savedmodel(folder, settings, threads, output):
    """Write into `output` the values of `saved` (variables/variables), `initial` (what the
    graph's initializers give: none in a TF2 SavedModel), each load of the settings' orderings
    (KIND.LOAD), the graph's facts and the signatures' outputs after each load
    (`signatures.SignatureCheck`). Unless the settings trust it, every load fails where the
    guard refuses what the loads run."""
    use_tf2_behavior(threads)
    folder = Path(folder)
    meta_graph = importing.as_loaded(saved_meta_graph(folder, settings["tags"]))
    with checked_copy(folder, meta_graph) as copy:
        audit_loads(folder, copy, meta_graph, settings, threads, Path(output))


@contextlib.contextmanager
def checked_copy(folder, meta_graph):
    """A SavedModel folder for the loads to read in place of `folder`: a saved_model.pb of
    the one `meta_graph` the guard checks (a loader would read the file again, and pick a
    meta graph itself), beside links to what else they read of `folder` (READ_BESIDE)."""
    with tempfile.TemporaryDirectory(prefix="checked-") as copy:
        copy = Path(copy)
        saved_model = SavedModel(saved_model_schema_version=1)
        saved_model.meta_graphs.add().CopyFrom(meta_graph)
        (copy / "saved_model.pb").write_bytes(saved_model.SerializeToString())
        for part in READ_BESIDE:
            if (folder / part).exists():
                (copy / part).symlink_to((folder / part).resolve())
        yield copy


def audit_loads(folder, copy, meta_graph, settings, threads, output):
    """`audit_given_savedmodel`'s audit of the SavedModel in `folder`, loaded from its
    `checked_copy` `copy`."""
    prefix = variables_prefix(folder)
    reader = tf.train.load_checkpoint(prefix)
    keys = variable_keys(reader)
    mapping = restored_variables(meta_graph)
    names = {key: variable_name(key) for key in keys}
    write_graph_facts(
        output,
        unseeded=initializer_facts.unseeded(meta_graph),
        random=sorted(initializer_facts.random_initializers(meta_graph)),
        constant=initializer_facts.constant_initializers(meta_graph),
        # A TF2 SavedModel's variables have no initializers: its graph lists none of them.
        unlisted=[] if tfgraph.listed_variables(meta_graph) else list(names.values()),
        init_op=init_op_initializes(meta_graph, mapping, names),
        lifted=has_a_resource_variable(meta_graph, mapping),
    )
    paths = state_paths(output, orderings.states(settings["orderings"]))
    write_values(paths["saved"], ((names[k], reader.get_tensor(k)) for k in keys))
    budget = graph_sizes.budget(tfgraph.checkpoint_keys(prefix))
    refused = None if settings["trust"] else refusal(folder, meta_graph, budget)
    check = signatures.SignatureCheck(meta_graph, budget, settings["trust"])
    restored_everything = set()
    # The initializers are the SavedModel's own ops too: none runs where the guard refused it.
    if refused:
        write_values(paths["initial"], [(names[k], UNINITIALIZED) for k in keys])
    else:
        try:
            initial = initial_values(meta_graph, mapping, keys, names, threads)
            write_values(paths["initial"], initial)
        except tf.errors.OpError as error:  # an initializer of a trusted graph that raises
            logging.info("initial failed: %s", error)
            write_failure(paths["initial"], list(names.values()), tfgraph.failure(error))
    references = {state: paths[state] for state in orderings.REFERENCES}
    for state in settings["orderings"]:
        started = time.perf_counter()
        if refused:
            logging.info("%s refused: %s", state, refused)
            write_failure(paths[state], list(names.values()), refused)
            check.failed_all(state, refused)
            continue
        how = orderings.ordering(state).run
        try:
            values = run_load(how, copy, meta_graph, mapping, keys, threads, check.runner(state))
        except (tf.errors.OpError, ValueError, ImportError, KeyError) as error:
            # What TensorFlow raises where it cannot load a part (a Keras object without Keras).
            logging.info("%s failed: %s", state, error)
            failed = tfgraph.failure(error).replace(str(copy), str(folder))
            write_failure(paths[state], list(names.values()), failed)
            check.failed_all(state, failed)
        else:
            named = ((names[k], value) for k, value in values.items())
            sourced = list(tfgraph.by_source(named, references))
            write_values(paths[state], sourced)
            if all(isinstance(source, str) and source == "saved" for _, source in sourced):
                restored_everything.add(state)
        logging.info("%s took %.3f s", state, time.perf_counter() - started)
    check.write(output, settings["orderings"], restored_everything)


def initial_values(meta_graph, mapping, keys, names, threads):
    """(name, value) of each key's variable as the graph's initializers set it in a fresh
    session: UNINITIALIZED for all of a SavedModel without initializers (TF2's)."""
    if not tfgraph.listed_variables(meta_graph):
        return [(names[k], UNINITIALIZED) for k in keys]
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads, rewrite=False) as sess:
        tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
        sess.run(tf.compat.v1.global_variables_initializer())
        values = dict(tfgraph.readable_values(sess, graph_reads(graph, mapping, keys)))
    return [(names[k], values[k]) for k in keys]


def init_op_initializes(meta_graph, mapping, names):
    """The names (`names`: key to name) of the variables whose initializers the SavedModel's
    init op runs (each key's graph variable: `mapping`), sorted; None where it writes one of
    them otherwise (a restore of its own, an assignment) or writes a variable in a function
    (which one is not known): no step predicts that. A write of a variable the SavedModel does
    not hold (a TF2 SavedModel's asset path) leaves none of its own."""
    program = Program(meta_graph.graph_def)
    reached = walk(program, savedmodel_parts.init_ops(meta_graph))
    initializers = {
        v.initializer_name: node_name(v.variable_name) for v in variable_defs(meta_graph)
    }
    held = set(mapping.values())
    initialized = set()
    for key in reached:
        node = program.node(key)
        if node.op not in op_table.WRITES_A_VARIABLE:
            continue
        if key[0] is not GRAPH:
            return None
        if key[1] in initializers:
            initialized.add(initializers[key[1]])
        elif node_name(node.input[0]) in held:
            return None
    return sorted(names[key] for key in names if mapping.get(key) in initialized)


def has_a_resource_variable(meta_graph, mapping):
    """Whether any variable the SavedModel restores (`mapping`'s) is a resource variable."""
    ops = {node.name: node.op for node in meta_graph.graph_def.node}
    return any(ops.get(variable) == "VarHandleOp" for variable in mapping.values())


def refusal(folder, meta_graph, budget):
    """The guard's first objection (`guard_refusals`), or None."""
    found = guard_refusals(folder, meta_graph, budget)
    return orderings.guard_refusal(found)


def guard_refusals(folder, meta_graph, budget):
    """The guard's objections to what the loads run of the SavedModel in `folder` (its
    restore, its init op, what tf.saved_model.load runs of its object graph, the assets they
    read) and to what importing it may run; `budget`: what it may allocate."""
    return (
        savedmodel_parts.import_refusals(meta_graph)
        + savedmodel_parts.asset_refusals(meta_graph, folder, budget)
        + checks.refusals(
            meta_graph,
            savedmodel_parts.init_ops(meta_graph),
            budget=budget,
            functions=savedmodel_parts.object_graph_functions(meta_graph),
            assets=savedmodel_parts.savedmodel_assets(meta_graph),
        )
    )
