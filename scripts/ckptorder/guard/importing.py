"""What the audit hands TensorFlow of a graph it did not write: of a `.meta` file, the part its
steps run (`importable`); of a SavedModel, its meta graph without the functions nothing names
and without interfaces by which TensorFlow would run another function in a checked one's place
(`as_loaded`)."""

from collections import deque, namedtuple

from google.protobuf.message import DecodeError

from ckptorder.guard.graph_program import (
    GRAPH,
    Program,
    clean,
    default_functions,
    walk,
)
from ckptorder.guard.op_table import VARIABLE_NODE_OPS
from ckptorder.guard.savedmodel_parts import object_graph_names
from ckptorder.tfsession import tf, variable_defs

# The collections the audit imports: the variables' definitions; and where it restores moving
# averages, the lists of the variables ExponentialMovingAverage.variables_to_restore averages.
IMPORTED_COLLECTIONS = ("variables",)
AVERAGED_COLLECTIONS = ("trainable_variables", "moving_average_variables")
Roots = namedtuple("Roots", "run restore filename forward")


def read_meta_graph(path):
    """The MetaGraphDef the file at `path` holds. Raises ValueError where it holds none."""
    meta_graph = tf.compat.v1.MetaGraphDef()
    try:
        with open(path, "rb") as handle:
            meta_graph.ParseFromString(handle.read())
    except (OSError, DecodeError):
        raise not_a_meta_graph(path) from None
    return meta_graph


def not_a_meta_graph(path):
    return ValueError(f"{path}: not a checkpoint meta graph (damaged, truncated or another file)")


def roots(meta_graph, fetches=(), outputs=()):
    """What the audit runs of the graph, as lists of node names: what it initialises and reads
    (every variable op, the variables' definitions and `fetches`), the Saver's restore op
    and the filename fed to it, and the inference check's `outputs`."""
    graph = meta_graph.graph_def.node
    run = [node.name for node in graph if node.op in VARIABLE_NODE_OPS]
    for variable in variable_defs(meta_graph):
        run += [variable.variable_name, variable.initializer_name, variable.snapshot_name]
        run += [variable.initial_value_name]
    saver = meta_graph.saver_def
    return Roots(
        run=clean([*run, *fetches]),
        restore=clean([saver.restore_op_name, saver.filename_tensor_name]),
        filename=clean([saver.filename_tensor_name]),
        forward=clean(outputs),
    )


def needed(meta_graph, fetches=(), outputs=()):
    """What the audit imports: the graph's nodes (names) and functions that `roots` reach."""
    program = Program(meta_graph.graph_def)
    reached = {}
    found = roots(meta_graph, fetches, outputs)
    for names in (found.run, found.restore, found.forward):
        reached |= walk(program, names)
    return {key[1] for key in reached if key[0] is GRAPH}, {key[0] for key in reached} - {GRAPH}


def importable(meta_graph, fetches=(), outputs=(), collections=IMPORTED_COLLECTIONS):
    """The part of `meta_graph` the audit imports (`needed`), as a MetaGraphDef of its own:
    those nodes without their `_output_shapes` (recorded by the TensorFlow that wrote the
    file, and stale in some written by TF 1.x), those functions, the Saver and the
    `collections` of variables."""
    nodes, functions = needed(meta_graph, fetches, outputs)
    part = tf.compat.v1.MetaGraphDef()
    part.meta_info_def.CopyFrom(meta_graph.meta_info_def)
    if meta_graph.HasField("saver_def"):
        part.saver_def.CopyFrom(meta_graph.saver_def)
    part.graph_def.versions.CopyFrom(meta_graph.graph_def.versions)
    for node in meta_graph.graph_def.node:
        if node.name in nodes:
            kept = part.graph_def.node.add()
            kept.CopyFrom(node)
            kept.attr.pop("_output_shapes", None)
    for function in meta_graph.graph_def.library.function:
        if function.signature.name in functions:
            without_interfaces(part.graph_def.library.function.add(), function)
    # The variables collection's entries only: what another lists outside it (a local
    # variable) may refer to ops that are not imported.
    kept_collections = {
        key: meta_graph.collection_def[key].bytes_list.value
        for key in collections
        if key in meta_graph.collection_def
    }
    listed = set(kept_collections.get("variables", ()))
    for key, entries in kept_collections.items():
        kept = [entry for entry in entries if entry in listed]
        if kept:
            part.collection_def[key].bytes_list.value.extend(kept)
    return part


# The attributes by which TensorFlow's optimizer (Grappler's implementation selector) may run
# another function of the library in place of the one a node names: any function that
# declares the same interface. The audit hands TensorFlow no function that declares one.
IMPLEMENTS_ATTRIBUTES = ("api_implements", "_implements", "api_preferred_device")


def without_interfaces(kept, function):
    """Copy `function` into `kept` (a FunctionDef) without IMPLEMENTS_ATTRIBUTES."""
    kept.CopyFrom(function)
    for attribute in IMPLEMENTS_ATTRIBUTES:
        kept.attr.pop(attribute, None)


def as_loaded(meta_graph):
    """A SavedModel's `meta_graph` as the audit checks it and hands it to TensorFlow's loaders,
    changed in place and returned: its library holds only the functions that the graph and
    the object graph name (`named_functions`), none declaring an interface
    (`without_interfaces`), so that no function the guard did not check can run. Only the
    library is copied: a graph's constants may be most of a file."""
    program = Program(meta_graph.graph_def)
    library = meta_graph.graph_def.library
    gradients = {g.function_name: g.gradient_func for g in library.gradient}
    registered = [g.gradient_func for g in library.registered_gradients]
    kept = named_functions(program, object_graph_names(meta_graph) + registered, gradients)
    loaded = type(library)(registered_gradients=library.registered_gradients)
    for function in library.function:
        if function.signature.name in kept:
            without_interfaces(loaded.function.add(), function)
    loaded.gradient.extend(g for g in library.gradient if g.function_name in kept)
    library.CopyFrom(loaded)
    return meta_graph


def named_functions(program, functions, gradients):
    """The names of the library's functions that the graph's nodes or `functions` name, and
    those these name in turn (in their bodies, their attributes' defaults and `gradients`:
    function to its gradient's), at any depth."""
    names = deque(functions)
    for key in program.nodes:
        names.extend(program.called(key))
    found = set()
    while names:
        function = names.popleft()
        if function in found or function not in program.functions:
            continue
        found.add(function)
        names.extend(default_functions(program.functions[function]))
        names.extend([gradients[function]] if function in gradients else [])
        for inner in program.body(function):
            names.extend(program.called(inner))
    return found
