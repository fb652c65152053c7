"""TF1 graph helpers that the steps' TensorFlow modules share (restoring, loading, exporting,
object_checkpoints, inference): what the audit imports of a checked graph, a checkpoint's keys
and saved values and what is wrong with a damaged one, each variable's read and value after an
ordering, and TensorFlow's errors in one line."""

import contextlib
import itertools
import logging
import math
import os

import numpy as np

from ckptorder import checkpoint_files, network
from ckptorder.guard import checks, graph_sizes, importing, op_table
from ckptorder.tfsession import SERVE_TAGS, session, tf, variable_defs
from ckptorder.values import UNINITIALIZED, Values

# What the SavedModel is tagged and signed as: what load.py loads it by.
SERVE = list(SERVE_TAGS)
SIGNATURE = tf.compat.v1.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY


def checked_graph(
    path, trust, keys, outputs=(), batch_shape=None, collections=importing.IMPORTED_COLLECTIONS
):
    """The part of the `.meta` file at `path` that the audit imports (`importing.importable`:
    what its steps and the inference check's `outputs`, fed batches of `batch_shape`, run,
    and the variables' `collections`).
    Unless `trust`, the guard checks that part first (`checks.refusals`, within the
    budget of the checkpoint whose `keys` are given): raises ValueError naming the first op it
    refuses, each logged, or for a file that is not a meta graph."""
    meta_graph = importing.read_meta_graph(path)
    if not trust:
        budget = graph_sizes.budget(keys)
        fed = {network.INPUT: batch_shape} if batch_shape is not None else None
        refused = checks.refusals(meta_graph, (), outputs, fed, budget)
        for line in refused:
            logging.info("refused: %s", line)
        if refused:
            more = f" (and {len(refused) - 1} more, in the step's log)" if len(refused) > 1 else ""
            raise ValueError(
                f"{path}: refused, restoring would run {refused[0]}{more}; set trust: true only"
                " for a checkpoint you trust (its graph then runs as it is)"
            )
    return importing.importable(meta_graph, (), outputs, collections)


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
    terabytes), and the budget (`graph_sizes.budget`) counts what it declares. A string
    element takes at least a byte there (its length)."""
    declared = sum(
        math.prod(shape) if dtype == "string" else graph_sizes.tensor_bytes(shape, dtype)
        for shape, dtype in keys.values()
    )
    if declared > sum(os.path.getsize(path) for path in checkpoint_files.data_files(prefix)):
        raise ValueError(truncated(prefix))


def saved_values(prefix, variables, keys, threads, parts=None):
    """Each graph variable's value as the checkpoint holds it under the key `keys` gives it
    (variable to key), read from the files by a RestoreV2 op per batch of at most BATCH_BYTES
    (TensorFlow's reader would hide a damaged file's error class); `variables`: name to
    (shape, dtype name); `parts`: a partitioned variable's part to its whole's key and slice
    (`partitions`)."""
    parts = parts or {}
    names = [name for name in variables if name in keys]
    sizes = {name: graph_sizes.tensor_bytes(*variables[name]) for name in names}
    graph = tf.Graph()
    with graph.as_default():
        reads = [
            (list(batch), restore_op(prefix, batch, variables, parts))
            for batch in batches({name: keys[name] for name in names}, sizes)
        ]
    with session(graph, threads, rewrite=False) as sess, checkpoint_errors(prefix):
        for batch, read in reads:
            yield from zip(batch, map(np.asarray, sess.run(read)), strict=True)


def restore_op(prefix, batch, variables, parts):
    """One RestoreV2 of the keys of `batch` (variable to key): its outputs, in its order."""
    return tf.raw_ops.RestoreV2(
        prefix=prefix,
        tensor_names=[parts[key][0] if key in parts else key for key in batch.values()],
        shape_and_slices=[parts[key][1] if key in parts else "" for key in batch.values()],
        dtypes=[variables[name][1] for name in batch],
    )


def graph_variables(meta_graph):
    """Each global variable of the graph, then each variable op the variables collection does
    not list (a graph imported twice: tensorflow/tensorflow#6774): name to (shape, dtype
    name), from its op's node."""
    nodes = {node.name: node for node in meta_graph.graph_def.node}
    unlisted = [n.name for n in meta_graph.graph_def.node if n.op in op_table.VARIABLE_NODE_OPS]
    found = {}
    for name in dict.fromkeys([*listed_variables(meta_graph), *unlisted]):
        attr = nodes[name].attr
        shape = tuple(dim.size for dim in attr["shape"].shape.dim)
        found[name] = shape, tf.as_dtype(attr["dtype"].type).name
    return found


def partitions(meta_graph, keys):
    """Each part of a partitioned variable (`emb/part_0`) whose whole the checkpoint holds, as
    a Saver saves it (one key, `emb`): part to (that key, the part's slice of it in
    TensorFlow's spec, `8 4 0,4:0,4`)."""
    found = {}
    for variable in variable_defs(meta_graph):
        info = variable.save_slice_info_def
        if info.full_name and keys.get(info.full_name, ((),))[0] == tuple(info.full_shape):
            spec = ":".join(
                f"{o},{n}" for o, n in zip(info.var_offset, info.var_shape, strict=True)
            )
            whole = " ".join(map(str, info.full_shape))
            found[variable.variable_name.removesuffix(":0")] = (info.full_name, f"{whole} {spec}")
    return found


def with_parts(keys, parts, variables):
    """The checkpoint's keys with each part of `parts` as a key of its own (its graph shape)
    in place of its whole's: what compatibility and the saved values match variables to."""
    wholes = {whole for whole, _ in parts.values()}
    kept = {key: spec for key, spec in keys.items() if key not in wholes}
    return kept | {part: (variables[part][0], keys[whole][1]) for part, (whole, _) in parts.items()}


def assignment_map(mapping, variables, parts):
    """init_from_checkpoint's map of checkpoint key to variable, from `mapping` (key to
    variable name): the parts of a partitioned variable as one list under their whole's key."""
    assigned = {}
    for key, name in mapping.items():
        if key in parts:
            assigned.setdefault(parts[key][0], []).append(variables[name])
        else:
            assigned[key] = variables[name]
    return assigned


def listed_variables(meta_graph):
    """The names the variables collection lists, in its order (a name twice if listed twice)."""
    return [v.variable_name.removesuffix(":0") for v in variable_defs(meta_graph)]


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


def run_after_load_v2(sess, run):
    """Run, after tf.saved_model.load in graph mode, the ops `run` names in order
    (`formats.savedmodel.LoadV2`): `restore`, the saved_model_initializers it asks for;
    `tables`, tables_initializer(), which runs the init op; `global`,
    global_variables_initializer()."""
    ops = {
        "restore": tf.compat.v1.get_collection("saved_model_initializers"),
        "tables": tf.compat.v1.tables_initializer(),
        "global": tf.compat.v1.global_variables_initializer(),
    }
    for name in run:
        sess.run(ops[name])


def import_meta_graph(meta_graph, path):
    """The Saver of `meta_graph` (read from `path`: what `checked_graph` gives), imported into
    the default graph. Raises ValueError with TensorFlow's own words where it cannot be
    imported."""
    try:
        return tf.compat.v1.train.import_meta_graph(meta_graph, clear_devices=True)
    except (ValueError, KeyError, TypeError, tf.errors.OpError) as error:
        words = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path}: TensorFlow cannot import its graph: {words}") from None


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


# The bytes of values one session.run fetches at most: a call per variable would prune the
# graph again each time (about 23 ms on a 2,900-node graph), one call for all would hold every
# value at once.
BATCH_BYTES = 64 * 2**20


def batches(reads, sizes=None, limit=BATCH_BYTES):
    """`reads` (name to tensor, or to anything given `sizes`) in consecutive parts whose values
    take at most `limit` bytes (a larger tensor alone): each value's bytes as `sizes` (name to
    bytes) gives them, else from its tensor's static shape (one of unknown shape counts as
    `limit`)."""
    batch, size = {}, 0
    for name, read in reads.items():
        if sizes is not None:
            bytes_ = sizes[name]
        elif read.shape.is_fully_defined():
            bytes_ = graph_sizes.tensor_bytes(read.shape.as_list(), read.dtype.name)
        else:
            bytes_ = limit
        if batch and size + bytes_ > limit:
            yield batch
            batch, size = {}, 0
        batch[name] = read
        size += bytes_
    if batch:
        yield batch


def readable_values(sess, reads):
    """(name, value) of every variable of `reads` (name to what to fetch), in `batches`;
    UNINITIALIZED for a variable that reading raises for."""
    for batch in batches(reads):
        yield from read_batch(sess, batch)


def read_batch(sess, batch):
    """The values of one batch, in one call; where reading raises for a variable of it, each
    half of it again, down to that variable (UNINITIALIZED)."""
    try:
        values = sess.run(list(batch.values()))
    except tf.errors.FailedPreconditionError:
        if len(batch) == 1:
            yield next(iter(batch)), UNINITIALIZED
            return
        items = list(batch.items())
        yield from read_batch(sess, dict(items[: len(items) // 2]))
        yield from read_batch(sess, dict(items[len(items) // 2 :]))
        return
    # A scalar string comes back as bytes.
    yield from zip(batch, map(np.asarray, values), strict=True)


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
    # A checkpoint reader's get_tensor raises the plain OpError, with TensorFlow's words.
    if isinstance(error, tf.errors.DataLossError) or "Checksum does not match" in str(error):
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
