"""What the audit imports of a `.meta` file's graph, and the guard that checks all of it first.

A `.meta` file is a program. Restoring runs the restore op its `saver_def` names, initialising
runs the initializers it holds, reading a variable runs its read op; and importing a graph
already runs ops: TensorFlow's shape inference evaluates small constant subgraphs. So the audit
imports only what it needs (`needed`): every variable op, what the variables collection names
of each variable (initializer, initial value, read op), the Saver's restore op and filename,
what a caller fetches (a SavedModel's init op) and the inference check's output. From those it
follows data inputs, control inputs and every function any attribute names, at any depth.
The guard (`refusals`) checks exactly that part, before any of it is imported:
- every op is on an allow-list of what initialising and restoring need (ALLOWED; pure math,
  FORWARD_OPS, on the inference check's path alone: the built network's output, or a
  SavedModel's signature, checked after each load by `forward_refusals`), and no function is
  recursive;
- a tensor the audit feeds (the Saver's filename, the network's input) is a leaf (`is_leaf`),
  and a
  `RestoreV2` reads the Saver's filename itself, and only on the restore op's path;
- a lookup table's vocabulary file is an asset of the SavedModel (`Assets`), a file of its own
  folder (`asset_refusals`);
- an op that can give more than its inputs has a size known in advance, within a budget tied
  to the checkpoint (`graph_sizes`), a function's ops given what each call passes it.
It reads the graph as a protocol buffer, in time and memory linear in the file.
"""

import functools
import importlib
from collections import deque, namedtuple
from pathlib import Path
from typing import NamedTuple

from google.protobuf.message import DecodeError

from ckptorder import graph_sizes
from ckptorder.tfsession import asset_file_defs, op_def, tf, variable_defs

VARIABLE_OPS = {"VariableV2", "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "Assign"}
STRUCTURE_OPS = {"NoOp", "Const", "Identity", "IdentityN", "Placeholder", "PlaceholderWithDefault"}
# What initializers compute their values with: arithmetic, shapes and random numbers.
INITIALIZER_OPS = {
    *("Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Neg", "Abs", "Sign", "Sqrt", "Rsqrt"),
    *("Square", "Exp", "Log", "Maximum", "Minimum", "Floor", "Cast", "Fill", "ZerosLike"),
    *("OnesLike", "Reshape", "Shape", "Size", "Rank", "Pack", "Unpack", "StridedSlice"),
    *("Slice", "ConcatV2", "ExpandDims", "Squeeze", "Transpose", "Tile", "BroadcastTo"),
    *("Range", "Prod", "Sum", "Mean", "Max", "Min", "MatMul", "Qr", "MatrixDiagPart", "Diag"),
    *("DiagPart", "Select", "SelectV2", "Greater", "Less", "Equal", "Pad", "ReverseV2"),
    *("RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal"),
    *("StatelessRandomUniformV2", "StatelessRandomNormalV2", "StatelessTruncatedNormalV2"),
    *("StatelessRandomGetKeyCounter", "StatelessRandomGetAlg", "StatelessRandomUniform"),
    *("StatelessRandomNormal", "StatelessTruncatedNormal", "StatelessRandomGetKeyCounterAlg"),
}
# Of them, those that draw random numbers, statefully (seed attributes) or not (a seed input).
RANDOM_OPS = {op for op in INITIALIZER_OPS if "Random" in op or "TruncatedNormal" in op}
# Calls and conditionals: allowed because the functions and branches they run are checked.
# Loops are not: no initializer or restore needs one, and one can run forever.
CONTROL_OPS = {"PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "Switch", "Merge"}
# TF 1.x's conditionals on reference variables (initialized_value(), as EMA's slots use it).
CONTROL_OPS |= {"RefSwitch", "RefMerge", "RefIdentity"}
LOOP_OPS = {"While", "StatelessWhile", "Enter", "Exit", "NextIteration", "LoopCond"}
# What a network computes its output with, pure math, allowed on the inference check's path
# alone (the built network's output, a SavedModel's signatures); and what it may not do there:
# write a variable (its shape, read before the check runs, would no longer hold).
FORWARD_OPS = {
    *("Conv2D", "DepthwiseConv2dNative", "BiasAdd", "MaxPool", "AvgPool", "FusedBatchNormV3"),
    *("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign", "LeakyRelu"),
    *("Erf", "Log1p", "Reciprocal", "Softmax", "LogSoftmax", "Round", "Ceil", "Pow"),
    *("SquaredDifference", "DivNoNan", "GreaterEqual", "LessEqual", "NotEqual", "FloorDiv"),
    *("FloorMod", "ArgMax", "ArgMin", "StopGradient"),
}
WRITES_A_VARIABLE = {"Assign", "AssignVariableOp"}
# Lookup tables, as a model of words keeps its vocabulary: made, filled from the graph's own
# constants or from a vocabulary file, looked up. What a table holds is bounded by what fills
# it; the file must be an asset of the SavedModel (`Assets`, `asset_refusals`).
READS_AN_ASSET = "InitializeTableFromTextFileV2"
TABLE_OPS = {"HashTableV2", "LookupTableImportV2", "InitializeTableV2", "LookupTableFindV2"}
TABLE_OPS |= {"LookupTableSizeV2", READS_AN_ASSET}
ALLOWED = frozenset(
    {"RestoreV2", "IsVariableInitialized", "VarIsInitializedOp"}
    | VARIABLE_OPS
    | STRUCTURE_OPS
    | INITIALIZER_OPS
    | CONTROL_OPS
    | TABLE_OPS
)
FORWARD_ALLOWED = (ALLOWED | FORWARD_OPS) - {"RestoreV2"} - WRITES_A_VARIABLE
# Why some ops that are not allowed are dangerous; any other is "not needed to restore".
DANGERS = {
    "WriteFile": "writes files",
    "ReadFile": "reads files",
    READS_AN_ASSET: "reads a file that is not an asset of the SavedModel",
    "SaveV2": "writes a checkpoint",
    "MergeV2Checkpoints": "writes a checkpoint",
    "PrintV2": "prints, to a file if asked",
    "MatchingFiles": "lists files",
    "DeleteFile": "deletes files",
    "DebugIdentity": "writes debug dumps",
    "ImmutableConst": "maps a file into memory",
    "DecodeProtoV2": "reads a descriptor file if asked",
    **dict.fromkeys(LOOP_OPS, "is a loop, which initialising and restoring do not need"),
}
DANGEROUS = tuple(f"{op} {why}" for op, why in DANGERS.items())
# What importing a graph or function may run, anywhere in it: TensorFlow's shape inference
# evaluates stateless ops (a ReadFile that feeds a Reshape's shape reads its file on import).
# A stateless op may be imported only where it computes in memory from its inputs alone: the
# ops of TensorFlow's modules of math, arrays, networks, strings, parsing and the like
# (`evaluable_on_import`), and of its variable updates (which need a variable, never a
# constant); a stateful op is never evaluated on import (what runs of it is checked above).
EVALUABLE_MODULES = (
    *("math_ops", "array_ops", "nn_ops", "string_ops", "bitwise_ops", "linalg_ops", "list_ops"),
    *("control_flow_ops", "functional_ops", "stateless_random_ops", "stateless_random_ops_v2"),
    *("sparse_ops", "spectral_ops", "ragged_array_ops", "ragged_math_ops", "set_ops"),
    *("ragged_conversion_ops", "parsing_ops", "image_ops", "state_ops"),
)
# And of another module, what a Saver names its files with: string formatting.
EVALUABLE_BESIDES = {"ShardedFilename", "ShardedFilespec"}
# Of those modules' ops, the ones that do more than compute: a file mapped into memory, and the
# image codecs' parsers (bytes of an unknown format, read in C++).
NOT_EVALUABLE = {"ImmutableConst", "ExtractJpegShape"}
NOT_EVALUABLE_PREFIXES = ("Decode", "Encode")
# The ops a variable is: reference and resource variables.
VARIABLE_NODE_OPS = ("VariableV2", "VarHandleOp")
# The collections the audit imports: the variables' definitions; and where it restores moving
# averages, the lists of the variables ExponentialMovingAverage.variables_to_restore averages.
IMPORTED_COLLECTIONS = ("variables",)
AVERAGED_COLLECTIONS = ("trainable_variables", "moving_average_variables")
Roots = namedtuple("Roots", "run restore filename forward")
# A node of the graph is (None, name); a node of a function's body is (function, name).
GRAPH = None


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


class Program:
    """A graph and its function library, with each node's inputs and the functions it names."""

    def __init__(self, graph_def):
        self.nodes = {(GRAPH, node.name): node for node in graph_def.node}
        self.functions = {f.signature.name: f for f in graph_def.library.function}
        self.bodies = {}
        self.calls = {}

    def body(self, function):
        """The nodes of `function`'s body, by (function, name)."""
        if function not in self.bodies:
            nodes = self.functions[function].node_def
            self.bodies[function] = {(function, node.name): node for node in nodes}
        return self.bodies[function]

    def node(self, key):
        return self.nodes[key] if key[0] is GRAPH else self.body(key[0])[key]

    def inputs(self, key):
        """The (node, output index) of each input of node `key`: None for a function's
        argument; control inputs last, with index -1."""
        scope, _ = key
        nodes = self.nodes if scope is GRAPH else self.body(scope)
        found = []
        for name in self.node(key).input:
            control = name.startswith("^")
            parts = name.lstrip("^").split(":")
            source = (scope, parts[0])
            if source not in nodes:
                found.append(None)
                continue
            index = -1 if control else self.output_index(parts, self.node(source))
            found.append((source, index))
        return found

    def output_index(self, parts, node):
        """`output_index`, for a node that is a function's call too (its outputs by name)."""
        if len(parts) == 3 and node.op in self.functions and parts[2].isdigit():
            names = [a.name for a in self.functions[node.op].signature.output_arg]
            return names.index(parts[1]) if parts[1] in names and parts[2] == "0" else -2
        return output_index(parts, node)

    def tensors(self, key):
        """The (node or argument name, output index) each data input of node `key` reads;
        None where the index is not known or the name is neither."""
        scope, _ = key
        arguments = set()
        if scope is not GRAPH:
            arguments = {a.name for a in self.functions[scope].signature.input_arg}
        found = []
        for name, source in zip(self.node(key).input, self.inputs(key), strict=True):
            if name.startswith("^"):
                continue
            if source is None:
                found.append((name, 0) if name in arguments else None)
            else:
                found.append((source[0][1], source[1]) if source[1] >= 0 else None)
        return found

    def called(self, key):
        """The functions node `key` names: its op, or in any attribute at any depth (read
        once: every check asks)."""
        if key not in self.calls:
            node = self.node(key)
            names = [node.op] if node.op in self.functions else []
            for value in node.attr.values():
                names += attr_functions(value)
            self.calls[key] = names
        return self.calls[key]


def output_index(parts, node):
    """The flat output index a tensor name's parts name: `n:1` in a graph; `n:out:k` in a
    function, exact where `out` is the op's first output argument (else unknown: -2)."""
    if len(parts) == 1:
        return 0
    if len(parts) == 2:
        return int(parts[1]) if parts[1].isdigit() else -2
    definition = op_def(node.op)
    if definition is None or not definition.output_arg:
        return -2
    first = definition.output_arg[0].name
    if parts[1] == first and parts[2].isdigit():
        return int(parts[2])
    if node.op == "Qr" and parts[1:] == ["r", "0"]:
        return 1
    return -2


def attr_functions(value):
    """Every function name an AttrValue holds: a function, a list of them, and the attributes
    a function is instantiated with, at any depth."""
    names = []
    stack = [value]
    while stack:
        value = stack.pop()
        functions = ([value.func] if value.HasField("func") else []) + list(value.list.func)
        for function in functions:
            names.append(function.name)
            stack.extend(function.attr.values())
    return names


def default_functions(function):
    """The functions `function`'s signature names in its attributes' default values."""
    names = []
    for attribute in function.signature.attr:
        if attribute.HasField("default_value"):
            names += attr_functions(attribute.default_value)
    return names


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


def clean(names):
    return list(dict.fromkeys(node_name(name) for name in names if name))


def walk(program, names, functions=()):
    """Every node the named graph nodes and `functions` reach through data and control inputs
    and the functions any node names (a function's whole body), breadth first: node to the
    node it was reached from (None for a root). Names not in the graph are left out."""
    reached = {}
    queue = deque()
    called = set()

    def visit(key, parent):
        if key not in reached:
            reached[key] = parent
            queue.append(key)

    def enter(names, parent):
        names = deque(names)
        while names:
            function = names.popleft()
            if function in called or function not in program.functions:
                continue
            called.add(function)
            names.extend(default_functions(program.functions[function]))
            for inner in program.body(function):
                visit(inner, parent)

    for name in names:
        if (GRAPH, name) in program.nodes:
            visit((GRAPH, name), None)
    enter(functions, None)
    while queue:
        key = queue.popleft()
        for source in program.inputs(key):
            if source is not None:
                visit(source[0], key)
        enter(program.called(key), key)
    return reached


def path(reached, key):
    """The names from a root to `key`, a function's nodes as `function/node`."""
    names = []
    while key is not None:
        names.append(key[1] if key[0] is GRAPH else f"{key[0]}/{key[1]}")
        key = reached[key]
    return " <- ".join(reversed(names))


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
    """A copy of a SavedModel's `meta_graph` as the audit checks it and hands it to
    TensorFlow's loaders: its library holds only the functions that the graph and the object
    graph name (`named_functions`), none declaring an interface (`without_interfaces`), so
    that no function the guard did not check can run."""
    program = Program(meta_graph.graph_def)
    library = meta_graph.graph_def.library
    gradients = {g.function_name: g.gradient_func for g in library.gradient}
    registered = [g.gradient_func for g in library.registered_gradients]
    kept = named_functions(program, object_graph_names(meta_graph) + registered, gradients)
    loaded = tf.compat.v1.MetaGraphDef()
    loaded.CopyFrom(meta_graph)
    del loaded.graph_def.library.function[:]
    for function in library.function:
        if function.signature.name in kept:
            without_interfaces(loaded.graph_def.library.function.add(), function)
    del loaded.graph_def.library.gradient[:]
    loaded.graph_def.library.gradient.extend(g for g in library.gradient if g.function_name in kept)
    return loaded


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


def refusals(
    meta_graph,
    fetches=(),
    outputs=(),
    fed_shapes=None,
    budget=None,
    variable_shapes=None,
    functions=(),
    assets=None,
):
    """One line per op of what the audit imports (`needed`) that the guard refuses, each
    with the path to it from what the audit runs. `fetches`: more tensors or ops run (a
    SavedModel's init op); `outputs`: the inference check's tensors, which may compute
    FORWARD_OPS too; `fed_shapes`: the shape of each placeholder the check feeds, by its
    node; `budget`: what the graph may allocate (`graph_sizes.budget`), None for no limit;
    `variable_shapes`: the shapes of resource variables' values (`oversized`); `functions`:
    more functions run as they are (what tf.saved_model.load runs of the object graph,
    `object_graph_functions`); `assets`: where a SavedModel's loaders put its assets' paths
    (`savedmodel_assets`), none in a graph that is not a SavedModel's."""
    program = Program(meta_graph.graph_def)
    run, restore, filename, forward = roots(meta_graph, fetches, outputs)
    fed_shapes = {node_name(name): tuple(shape) for name, shape in (fed_shapes or {}).items()}
    found = missing(program, run + restore + forward + list(fed_shapes), functions)
    groups = [
        (walk(program, run, functions), ALLOWED - {"RestoreV2"}),
        (walk(program, restore), ALLOWED),
        (walk(program, forward), FORWARD_ALLOWED),
    ]
    fed = set(filename) | set(fed_shapes)
    everything = {}
    for reached, allowed in groups:
        everything |= reached
        found += refused_ops(program, reached, allowed, filename, fed, assets or NO_ASSETS)
    found += recursion(program, everything)
    found += too_many_calls(program, everything, functions)
    found += oversized(program, everything, fed_shapes, budget, variable_shapes)
    return dangers_first(found)


@functools.cache
def evaluable_on_import():
    """The stateless ops importing may run that compute in memory alone (EVALUABLE_MODULES,
    EVALUABLE_BESIDES), read off TensorFlow's generated op modules: each op's function there
    is its name in snake case."""
    by_key = {name.lower().replace("_", ""): name for name in dir(tf.raw_ops)}
    found = set(EVALUABLE_BESIDES)
    for module in EVALUABLE_MODULES:
        generated = importlib.import_module(f"tensorflow.python.ops.gen_{module}")
        for function in dir(generated):
            op = by_key.get(function.lower().replace("_", ""))
            if op and not function.startswith("_") and op_def(op) is not None:
                found.add(op)
    return frozenset(
        op
        for op in found
        if not op_def(op).is_stateful
        and op not in NOT_EVALUABLE
        and not op.startswith(NOT_EVALUABLE_PREFIXES)
    )


def import_refusals(meta_graph):
    """A line per op, anywhere in the graph or its function library, that importing it may run
    (a stateless op) and that is not one that computes in memory alone
    (`evaluable_on_import`): a SavedModel's loaders import all of it, reached or not
    (loader.load its graph, tf.saved_model.load every function)."""
    program = Program(meta_graph.graph_def)
    nodes = list(program.nodes)
    for function in program.functions:
        nodes += list(program.body(function))
    allowed = evaluable_on_import()
    return [
        f"{path({key: None}, key)}: {op} {DANGERS.get(op, 'is not an op that only computes')};"
        " importing the SavedModel may run it, reached or not"
        for key in nodes
        if (op := program.node(key).op) not in allowed
        and op_def(op) is not None
        and not op_def(op).is_stateful
    ]


def asset_refusals(meta_graph, folder, budget):
    """A line per asset of the SavedModel in `folder` that is not a file of its own: its
    loaders read `assets/FILENAME`, which must be a regular file in that folder (no absolute
    path, no `..` and no link out of it), of at most the `budget`'s total bytes."""
    assets = (Path(folder) / "assets").resolve()
    found = []
    for asset in asset_file_defs(meta_graph):
        path = (assets / asset.filename).resolve()
        if not path.is_relative_to(assets) or not path.is_file():
            found.append(
                f"asset {asset.filename!r}: not a file in the SavedModel's assets folder"
                f" ({DANGERS[READS_AN_ASSET]})"
            )
        elif path.stat().st_size > budget.total:
            found.append(
                f"asset {asset.filename!r}: {path.stat().st_size} bytes, over the budget of"
                f" {budget.total} (graph_sizes.budget)"
            )
    return found


def forward_refusals(
    meta_graph,
    budget,
    outputs=(),
    fed_shapes=None,
    variable_shapes=None,
    function=None,
    arguments=None,
):
    """`refusals` of the inference check's path alone (a SavedModel's signature, run after a
    load): its graph `outputs`, fed `fed_shapes`, or its `function`, called with `arguments`
    (argument name to shape); its ops, and its sizes given those shapes and the variables'."""
    program = Program(meta_graph.graph_def)
    fed_shapes = {node_name(name): tuple(shape) for name, shape in (fed_shapes or {}).items()}
    functions = [function] if function else []
    found = missing(program, clean(outputs) + list(fed_shapes), functions)
    reached = walk(program, clean(outputs), functions)
    found += refused_ops(program, reached, FORWARD_ALLOWED, [], set(fed_shapes), NO_ASSETS)
    found += recursion(program, reached)
    found += too_many_calls(program, reached, functions)
    called = {function: arguments or {}} if function else {}
    found += oversized(program, reached, fed_shapes, budget, variable_shapes, called)
    return dangers_first(found)


def missing(program, names, functions=()):
    return [
        f"{name}: named by the meta graph, but not in its graph"
        for name in names
        if (GRAPH, name) not in program.nodes
    ] + [
        f"{name}: named by the object graph, but not in the function library"
        for name in functions
        if name not in program.functions
    ]


def dangers_first(found):
    """The lines, once each, what touches files first: the first line is the one an error
    shows."""
    return sorted(dict.fromkeys(found), key=lambda line: not line.endswith(DANGEROUS))


def refused_ops(program, reached, allowed, filename, fed, assets):
    """A line per node of `reached` that `refusal` refuses, with the path to it."""
    callers = {}
    for key in reached:
        for function in program.called(key):
            callers.setdefault(function, []).append(key)
    bound = restores_of_the_fed_file(program, reached, filename, callers)
    bound |= reads_of_assets(program, reached, assets, callers)
    found = []
    for key in reached:
        why = refusal(program, key, allowed, filename, fed, bound)
        if why:
            found.append(f"{path(reached, key)}: {program.node(key).op} {why}")
    return found


def refusal(program, key, allowed, filename, fed, bound=frozenset()):
    """Why node `key` may not be imported, or None; `bound`: the nodes that read a file the
    audit allows: the RestoreV2 nodes of functions that read the file fed to the restore
    (`restores_of_the_fed_file`), the vocabulary reads of an asset (`reads_of_assets`)."""
    node = program.node(key)
    if node.op in program.functions:
        return None
    if node.op not in allowed:
        if node.op == "RestoreV2":
            return "reads a checkpoint other than the one restored"
        return DANGERS.get(node.op, "is not needed to initialise or restore")
    if node.op == READS_AN_ASSET and key not in bound:
        return DANGERS[READS_AN_ASSET]
    if key[0] is GRAPH and key[1] in fed and not is_leaf(program, key):
        return (
            "is fed by the audit, so it must be a placeholder or constant with no inputs but"
            " a constant default"
        )
    if (
        node.op == "RestoreV2"
        and key not in bound
        and (key[0] is not GRAPH or reads(node) not in filename)
    ):
        return "reads a checkpoint other than the one restored"
    unresolved = placeholders(program, key) if key[0] is not GRAPH else []
    if unresolved:
        return f"names attribute(s) {', '.join(unresolved)} its function does not declare"
    return None


def restores_of_the_fed_file(program, reached, filename, callers):
    """The RestoreV2 nodes of functions in `reached` whose prefix is the function's argument
    that every call reached (`callers`: function to the nodes that call it) binds to the fed
    `filename`: a TF2 SavedModel's restore function reads its `file_prefix` argument, bound
    to the SavedModel's `saver_filename`, or a function's argument bound so in turn. A
    function named any other way (in a nested attribute) binds nothing."""
    return {
        key
        for key in reached
        if key[0] is not GRAPH
        and program.node(key).op == "RestoreV2"
        and bound_to(program, key, 0, callers, filename)
    }


def bound_to(program, key, index, callers, sources):
    """Whether input `index` of node `key` (in a function) is its function's argument that
    every call (`callers`: function to the nodes that name it) binds to output 0 of one of the
    graph nodes `sources` (`argument_bound`)."""
    return argument_bound(program, key[0], argument_position(program, key, index), callers, sources)


def argument_bound(program, function, position, callers, sources, outer=frozenset()):
    """Whether every call of `function` binds its argument at `position` to output 0 of one of
    the graph nodes `sources`: a graph node calling it as `f` with that node there, or a node
    of another function passing on that function's own argument, itself so bound (`outer`:
    the functions on the way, a cycle binding nothing). Where there is no call, False."""
    calls = callers.get(function, [])
    if position is None or not calls or function in outer:
        return False
    for caller in calls:
        node = program.node(caller)
        if (
            node.op not in ("PartitionedCall", "StatefulPartitionedCall")
            or node.attr["f"].func.name != function
            or position >= len(node.input)
        ):
            return False
        if caller[0] is GRAPH:
            if reads(node, position) not in sources:
                return False
        elif not argument_bound(
            program,
            caller[0],
            argument_position(program, caller, position),
            callers,
            sources,
            outer | {function},
        ):
            return False
    return True


def argument_position(program, key, index):
    """The position of the function's argument that input `index` of node `key` (in a
    function) reads, or None where it reads another tensor."""
    arguments = [argument.name for argument in program.functions[key[0]].signature.input_arg]
    name = program.node(key).input[index] if index < len(program.node(key).input) else None
    return arguments.index(name) if name in arguments else None


class Assets(NamedTuple):
    """Where a SavedModel's loaders put the paths of its assets (its own files, in its
    `assets` folder): `nodes`, the graph nodes that hold one, which TF1's loader.load feeds
    (and a TF2 SavedModel's reads of the variable it assigns one to); `arguments`, function to
    the positions of its arguments that tf.saved_model.load binds to an asset."""

    nodes: frozenset
    arguments: dict


NO_ASSETS = Assets(frozenset(), {})


def savedmodel_assets(meta_graph):
    """The `Assets` of a SavedModel's meta graph (`asset_file_defs`, its object graph's
    functions' captured assets); a fed node counts only where it is a leaf, and a variable
    only where the graph does nothing with it but assign it a fed path and read it."""
    program = Program(meta_graph.graph_def)
    fed = {node_name(asset.tensor_info.name) for asset in asset_file_defs(meta_graph)}
    fed = {
        name for name in fed if (GRAPH, name) in program.nodes and is_leaf(program, (GRAPH, name))
    }
    holders, spoilt = set(), set()
    for node in program.nodes.values():
        for position, source in enumerate(node.input):
            held = node_name(source)
            if node.op == "AssignVariableOp" and position == 0 and reads(node, 1) in fed:
                holders.add(held)
            elif node.op not in ("ReadVariableOp", "VarIsInitializedOp") or position != 0:
                spoilt.add(held)
    reads_held = {
        name
        for (_, name), node in program.nodes.items()
        if node.op == "ReadVariableOp" and reads(node) in holders - spoilt
    }
    return Assets(frozenset(fed | reads_held), captured_assets(meta_graph, program))


def captured_assets(meta_graph, program):
    """Each function the object graph has a concrete function of (tf.saved_model.load may run
    it), to the positions of its arguments that the object graph binds to an asset
    (captured inputs are a function's last arguments)."""
    objects = meta_graph.object_graph_def
    found = {}
    for name, concrete in objects.concrete_functions.items():
        if name not in program.functions:
            continue
        bound = list(concrete.bound_inputs)
        first = len(program.functions[name].signature.input_arg) - len(bound)
        positions = {
            first + i
            for i, node_id in enumerate(bound)
            if 0 <= node_id < len(objects.nodes)
            and objects.nodes[node_id].WhichOneof("kind") == "asset"
        }
        found[name] = positions if first >= 0 else set()
    return found


def reads_of_assets(program, reached, assets, callers):
    """The READS_AN_ASSET nodes of `reached` whose file is an asset: in the graph, a node of
    `assets.nodes`; in a function, an argument that every call reached binds to one, and
    that the object graph binds to an asset where it gives the function captured inputs."""
    found = set()
    for key in reached:
        if program.node(key).op != READS_AN_ASSET:
            continue
        if key[0] is GRAPH:
            if reads(program.node(key), 1) in assets.nodes:
                found.add(key)
            continue
        position = argument_position(program, key, 1)
        calls = callers.get(key[0], [])
        captured = assets.arguments.get(key[0])
        by_calls = bound_to(program, key, 1, callers, assets.nodes) if calls else True
        by_objects = position in captured if captured is not None else bool(calls)
        if position is not None and by_calls and by_objects:
            found.add(key)
    return found


def is_leaf(program, key):
    """Whether node `key` computes nothing when fed: a Placeholder or Const, or a chain of
    PlaceholderWithDefault ending in one (as a Saver's filename is), without control inputs."""
    node = program.node(key)
    while node.op == "PlaceholderWithDefault" and len(node.input) == 1:
        if node.input[0].startswith("^") or (GRAPH, node_name(node.input[0])) not in program.nodes:
            return False
        node = program.nodes[(GRAPH, node_name(node.input[0]))]
    return node.op in ("Placeholder", "Const") and not node.input


def reads(node, position=0):
    """The node that input `position` of `node` (a RestoreV2's prefix: 0) is output 0 of, or
    None where it is another output or a control input."""
    name, _, index = node.input[position].partition(":")
    return name if index in ("", "0") and not name.startswith("^") else None


def placeholders(program, key):
    """The attribute placeholders of a function's node that the function does not declare."""
    declared = {attr.name for attr in program.functions[key[0]].signature.attr}
    names = [value.placeholder for value in program.node(key).attr.values() if value.placeholder]
    return [name for name in names if name not in declared]


def recursion(program, reached):
    """A line per function that calls itself, directly or through others: TensorFlow would
    instantiate it without end."""
    calls = {function: set() for function in {key[0] for key in reached} - {GRAPH}}
    for key in reached:
        if key[0] is not GRAPH:
            calls[key[0]].update(f for f in program.called(key) if f in program.functions)
    return [
        f"{function}: calls itself, through {', '.join(sorted(cycle))}"
        for function, cycle in cycles(calls).items()
    ]


# How many function calls running what the audit runs may make, counted as TensorFlow makes
# them: a function called twice by a function called twice runs four times.
MAX_CALLS = 100_000


def too_many_calls(program, reached, functions=()):
    """A line where the functions `reached` (and `functions`, each run once) would be called
    more than MAX_CALLS times in all, with the function called most. Each call site counts
    once per call of the function it stands in (a conditional's branches each count), in time
    linear in the calls; a cycle is left to `recursion`."""
    calls = {}  # function to {callee: call sites}
    counts = dict.fromkeys((f for f in functions if f in program.functions), 1)
    for key in reached:
        for callee in program.called(key):
            if callee not in program.functions:
                continue
            if key[0] is GRAPH:
                counts[callee] = counts.get(callee, 0) + 1
            else:
                sites = calls.setdefault(key[0], {})
                sites[callee] = sites.get(callee, 0) + 1
    callers = {}
    for sites in calls.values():
        for callee in sites:
            callers[callee] = callers.get(callee, 0) + 1
    ready = [f for f in {*calls, *counts} if not callers.get(f)]
    while ready:
        caller = ready.pop()
        for callee, sites in calls.get(caller, {}).items():
            counts[callee] = min(
                counts.get(callee, 0) + sites * counts.get(caller, 0), MAX_CALLS + 1
            )
            callers[callee] -= 1
            if not callers[callee]:
                ready.append(callee)
    total = sum(counts.values())
    if total <= MAX_CALLS:
        return []
    most = min(counts, key=lambda function: (-counts[function], function))
    return [
        f"{most}: function calls multiply to over {MAX_CALLS:,} ({most} alone"
        f" {'over ' if counts[most] > MAX_CALLS else ''}{min(counts[most], MAX_CALLS):,} times)"
    ]


def cycles(calls):
    """Each function of `calls` (function to the functions it calls) that reaches itself, with
    the functions on its way back. Linear in the calls, by Tarjan's strongly connected
    components."""
    index, low, stack, on_stack, found = {}, {}, [], set(), {}
    for start in calls:
        if start in index:
            continue
        work = [(start, iter(calls.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            function, callees = work[-1]
            callee = next(callees, None)
            if callee is not None:
                if callee not in index:
                    index[callee] = low[callee] = len(index)
                    stack.append(callee)
                    on_stack.add(callee)
                    work.append((callee, iter(calls.get(callee, ()))))
                elif callee in on_stack:
                    low[function] = min(low[function], index[callee])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[function])
            if low[function] == index[function]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == function:
                        break
                if len(component) > 1 or function in calls.get(function, ()):
                    found |= dict.fromkeys(component, component)
    return found


def oversized(program, reached, fed_shapes, budget, variable_shapes=None, called=None):
    """A line per node that can give more than its inputs and whose size is unknown before it
    runs or over `budget.tensor` bytes, one if all such nodes add up to over `budget.total`;
    a line per graph or function whose nodes form a cycle. A function called by a node of the
    graph is checked with what that call gives it (`Sizes`), one `called` by the audit itself
    with the arguments it gives (function to argument name to shape); `variable_shapes`: the
    shapes of resource variables' values, by their graph nodes, where the caller knows them."""
    if budget is None:
        return []
    variables = validated_variable_shapes(program, reached) | (variable_shapes or {})
    sizes = Sizes(program, reached, budget)
    sizes.check(GRAPH, graph_sizes.Shapes(fed_shapes, variables, call=sizes.call))
    for function, arguments in (called or {}).items():
        if function in sizes.members:
            declared = program.functions[function].signature
            given = tuple((arguments.get(a.name), None) for a in declared.input_arg)
            sizes.instantiate(function, declared, given)
    for function in sorted(set(sizes.members) - {GRAPH}):
        if function in sizes.named_otherwise or function not in sizes.instantiated:
            sizes.check(function, graph_sizes.Shapes({}, {}, call=sizes.call))
    found = sizes.found
    if sizes.total > budget.total:
        found.append(
            f"the graph: its allocations add up to {sizes.total:,} bytes, over the budget of"
            f" {budget.total:,} bytes ({budget_words('the checkpoint')})"
        )
    return list(dict.fromkeys(found))


class Sizes:
    """The size check of the graph's reached nodes, scope by scope: a function called from a
    node (a PartitionedCall, a StatefulPartitionedCall, the function as an op) is checked once
    per set of argument shapes and values its callers give it; one named any other way (a
    branch, an attribute) is checked with arguments of unknown shape too."""

    # How many function nodes may be checked in all, over the reached nodes' count: each
    # distinct set of argument shapes checks a body again.
    INSTANTIATIONS = 16

    def __init__(self, program, reached, budget):
        self.program, self.reached, self.budget = program, reached, budget
        self.members = scopes(reached)
        self.ordered = {}
        self.found, self.total = [], 0
        self.instantiated, self.outputs, self.active = set(), {}, set()
        self.left = self.INSTANTIATIONS * len(reached)
        self.named_otherwise = {
            function
            for key in reached
            for function in program.called(key)
            if function != callee(program.node(key))
        } | {
            function
            for scope in self.members
            if scope is not GRAPH
            for default in program.functions[scope].signature.attr
            for function in attr_functions(default.default_value)
        }

    def check(self, scope, shapes):
        """Infer `scope`'s nodes with `shapes`, recording what is unknown or over budget."""
        if scope not in self.ordered:
            members = self.members.get(scope, [])
            self.ordered[scope] = topological(self.program, members)
            if len(self.ordered[scope]) < len(members):
                where = "the graph" if scope is GRAPH else f"function {scope}"
                self.found.append(f"{where}: its nodes form a cycle, which only a loop may")
        for key in self.ordered[scope]:
            size = shapes.infer(key[1], self.program.node(key), self.program.tensors(key))
            op = self.program.node(key).op
            # The path is spelt out only for a node refused: spelling it for every node of a
            # chain would take time quadratic in its length.
            if size is None:
                where = path(self.reached, key)
                self.found.append(f"{where}: {op} of a size not known before it runs")
            elif size > self.budget.tensor:
                where = path(self.reached, key)
                words = budget_words("the checkpoint's largest tensor")
                self.found.append(
                    f"{where}: {op} of {size:,} bytes, over the budget of"
                    f" {self.budget.tensor:,} bytes a tensor ({words})"
                )
            self.total += size or 0
        return shapes

    def call(self, node, shapes, values):
        """The (shape, value) of each output of the function `node` calls, checked in its body
        with the arguments the call gives; None where `node` calls no function."""
        function = callee(node)
        if function not in self.members or function is GRAPH:
            return None
        signature = self.program.functions[function].signature
        given = tuple(zip(shapes, values, strict=True))
        known = (function, given)
        if known not in self.outputs:
            self.outputs[known] = self.instantiate(function, signature, given)
        return self.outputs[known]

    def instantiate(self, function, signature, given):
        unknown = [(None, None)] * len(signature.output_arg)
        # Recursion is refused (`recursion`); too many calls to check, refused here.
        if function in self.active:
            return unknown
        self.left -= len(self.members[function])
        if self.left < 0:
            self.found.append(
                f"{function}: called with too many different argument shapes to check"
            )
            return unknown
        self.instantiated.add(function)
        self.active.add(function)
        arguments = {
            argument.name: given[i] if i < len(given) else (None, None)
            for i, argument in enumerate(signature.input_arg)
        }
        shapes = self.check(function, graph_sizes.Shapes({}, {}, arguments, self.call))
        self.active.discard(function)
        returned = self.program.functions[function].ret
        return [
            returned_tensor(shapes, returned.get(argument.name, ""), self.program, function)
            for argument in signature.output_arg
        ]


def callee(node):
    """The function a node calls with its inputs as the arguments, or None."""
    if node.op in ("PartitionedCall", "StatefulPartitionedCall"):
        return node.attr["f"].func.name
    return node.op


def returned_tensor(shapes, name, program, function):
    """The (shape, value) of a function's returned tensor `name` in its inferred `shapes`."""
    parts = name.split(":")
    if (function, parts[0]) in program.body(function):
        parts = (parts[0], program.output_index(parts, program.node((function, parts[0]))))
    else:
        parts = (parts[0], 0)  # an argument returned as it is
    return shapes.shapes.get(parts), shapes.values.get(parts)


def budget_words(what):
    return f"{graph_sizes.BUDGET_FACTOR}x {what} + {graph_sizes.MARGIN // 2**20} MiB"


def scopes(reached):
    """The reached nodes grouped by graph or function."""
    grouped = {}
    for key in reached:
        grouped.setdefault(key[0], []).append(key)
    return grouped


def topological(program, keys):
    """`keys` (nodes of one graph or function) ordered so that each comes after its inputs;
    nodes on a cycle are left out."""
    members = set(keys)
    waiting = {}
    users = {}
    for key in keys:
        sources = {s[0] for s in program.inputs(key) if s is not None and s[0] in members}
        waiting[key] = len(sources)
        for source in sources:
            users.setdefault(source, []).append(key)
    ready = deque(key for key in keys if waiting[key] == 0)
    ordered = []
    while ready:
        key = ready.popleft()
        ordered.append(key)
        for user in users.get(key, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    return ordered


def validated_variable_shapes(program, reached):
    """The declared shape of each reference variable of the graph that TensorFlow holds to it:
    fully defined, and every Assign to it validates the shape."""
    shapes = {}
    for key in reached:
        node = program.node(key)
        if key[0] is GRAPH and node.op == "VariableV2":
            shape = graph_sizes.declared_shape(node.attr["shape"].shape)
            if shape is not None and None not in shape:
                shapes[key[1]] = shape
    for key in reached:
        node = program.node(key)
        if node.op == "Assign" and not node.attr["validate_shape"].b:
            shapes.pop(node_name(node.input[0]), None)
    return shapes


# A resource's functions tf.saved_model.load runs: it makes, initialises and deletes it.
RESOURCE_FUNCTIONS = ("_create_resource", "_initialize", "_destroy_resource")


def object_graph_functions(meta_graph):
    """What tf.saved_model.load runs of a TF2 SavedModel's object graph, besides the graph's
    restore and init op, by concrete function: each resource's RESOURCE_FUNCTIONS and each
    saveable object's save and restore functions."""
    objects = meta_graph.object_graph_def
    names = []
    for node in objects.nodes:
        ids = []
        if node.WhichOneof("kind") == "resource":
            ids += [c.node_id for c in node.children if c.local_name in RESOURCE_FUNCTIONS]
        for saveable in node.saveable_objects.values():
            ids += [saveable.save_function, saveable.restore_function]
        names += [name for i in ids for name in concrete_functions(objects, i)]
    return list(dict.fromkeys(names))


def object_graph_names(meta_graph):
    """Every function a SavedModel's object graph names (tf.saved_model.load loads each)."""
    objects = meta_graph.object_graph_def
    names = list(objects.concrete_functions)
    for node_id in range(len(objects.nodes)):
        names += concrete_functions(objects, node_id)
    return names


def signature_functions(meta_graph):
    """The concrete functions of each signature as tf.saved_model.load gives it: the children
    of its root's `signatures` object; {} for a SavedModel without an object graph (TF1's)."""
    objects = meta_graph.object_graph_def
    if not objects.nodes:
        return {}
    found = {}
    for child in objects.nodes[0].children:
        if child.local_name == "signatures" and 0 <= child.node_id < len(objects.nodes):
            for signature in objects.nodes[child.node_id].children:
                found[signature.local_name] = concrete_functions(objects, signature.node_id)
    return found


def concrete_functions(objects, node_id):
    """The concrete functions node `node_id` of the object graph is: a function's traces, or
    a bare concrete function."""
    if not 0 <= node_id < len(objects.nodes):
        return []
    node = objects.nodes[node_id]
    if node.WhichOneof("kind") == "function":
        return list(node.function.concrete_functions)
    if node.WhichOneof("kind") == "bare_concrete_function":
        return [node.bare_concrete_function.concrete_function_name]
    return []


def random_initializers(meta_graph):
    """Each variable whose initializer runs a random op (one with seed attributes), with those
    ops' nodes: initialised twice in one session, such a variable gets new values."""
    program = Program(meta_graph.graph_def)
    found = {}
    for variable in variable_defs(meta_graph):
        reached = walk(program, [node_name(variable.initializer_name)])
        ops = [
            (key[1] if key[0] is GRAPH else f"{key[0]}/{key[1]}", program.node(key))
            for key in reached
            if "seed" in program.node(key).attr and "seed2" in program.node(key).attr
        ]
        if ops:
            found[node_name(variable.variable_name)] = ops
    return found


def constant_initializers(meta_graph):
    """The variables whose initializer draws no random number, stateful or stateless (zeros,
    ones, a constant): the same values on every run, whatever the seeds."""
    program = Program(meta_graph.graph_def)
    return sorted(
        node_name(variable.variable_name)
        for variable in variable_defs(meta_graph)
        if not any(
            program.node(key).op in RANDOM_OPS
            for key in walk(program, [node_name(variable.initializer_name)])
        )
    )


def copying_initializers(meta_graph):
    """Each variable whose initializer reads other variables (an ExponentialMovingAverage
    shadow's, `initialized_value()` of the variable it averages), with those variables."""
    program = Program(meta_graph.graph_def)
    found = {}
    for variable in variable_defs(meta_graph):
        own = node_name(variable.variable_name)
        reached = walk(program, [node_name(variable.initializer_name)])
        read = sorted(
            key[1]
            for key in reached
            if key[0] is GRAPH and key[1] != own and program.node(key).op in VARIABLE_NODE_OPS
        )
        if read:
            found[own] = read
    return found


def unseeded(meta_graph):
    """Each variable whose initializer runs a random op that carries neither an op seed nor a
    graph seed (its attributes seed and seed2 both 0, which TensorFlow reads as "seed anew on
    every run"), with those ops: re-initialised, it gets new values every time."""
    found = {}
    for variable, ops in random_initializers(meta_graph).items():
        names = [name for name, node in ops if node.attr["seed"].i == node.attr["seed2"].i == 0]
        if names:
            found[variable] = names
    return found


def node_name(tensor):
    """The node a tensor or control input names: `^a`, `a:0` and `a` are node `a`."""
    return tensor.lstrip("^").split(":")[0]
