"""What an ordering would run of a `.meta` file's graph, checked before any of it runs.

A `.meta` file is a program: restoring runs the restore op its `saver_def` names, initialising
runs the initializers it holds, and reading a variable runs its read op. From what each step
of an ordering fetches, the guard follows data inputs, control inputs and every function an
op calls (a function-valued attribute, or an op named after a function of the graph's
library), and refuses the graph if anything it reaches is outside ALLOWED: the ops that
initialising and restoring need. Ops the ordering never reaches do not count. It reads the
graph as a protocol buffer and imports nothing of it.
"""

from collections import deque

from google.protobuf.message import DecodeError

from ckptorder.network import INPUT
from ckptorder.tfsession import tf, variable_defs

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
# Calls and control flow: allowed because the functions and branches they run are checked.
CONTROL_OPS = {
    *("PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While"),
    *("StatelessWhile", "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"),
}
# What the built network computes its output with: fetched by the inference check alone.
FORWARD_OPS = {"Conv2D", "BiasAdd"}
ALLOWED = frozenset(
    {"RestoreV2", "IsVariableInitialized", "VarIsInitializedOp"}
    | VARIABLE_OPS
    | STRUCTURE_OPS
    | INITIALIZER_OPS
    | CONTROL_OPS
)
# Why some ops that are not allowed are dangerous; any other is "not needed to restore".
DANGERS = {
    "WriteFile": "writes files",
    "ReadFile": "reads files",
    "SaveV2": "writes a checkpoint",
    "MergeV2Checkpoints": "writes a checkpoint",
    "PrintV2": "prints, to a file if asked",
    "MatchingFiles": "lists files",
    "DeleteFile": "deletes files",
}
# The steps whose ops come from the file: the initializers, and the Saver's restore op. The
# other steps run ops the pipeline builds around the graph's variables.
RUNS_INITIALIZERS = {"initialize_all", "initialize_uninitialized", "initialize_from_suggested_map"}
RUNS_SAVER = {"restore_all"}


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


def refusals(meta_graph, steps, fetches=(), outputs=()):
    """One line per op the steps would run that ALLOWED does not hold (or a RestoreV2 that
    does not read the Saver's file), each with the path to it from what a step fetches;
    `fetches`: more tensors or ops run (a SavedModel's init op); `outputs`: the tensors the
    inference check runs, fed the network's input, which may compute FORWARD_OPS too."""
    graph = {node.name: node for node in meta_graph.graph_def.node}
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    filename = node_name(meta_graph.saver_def.filename_tensor_name)
    fetched, restore = roots(meta_graph, steps)
    fetched += [node_name(name) for name in fetches]
    found = []
    # The Saver's restore op runs with its filename fed (its inputs do not run); anything
    # else that reaches the filename tensor computes it.
    checks = [(fetched, set(), set()), (restore, {filename}, set())]
    checks.append(([node_name(name) for name in outputs], {node_name(INPUT)}, FORWARD_OPS))
    for names, fed, forward in checks:
        for path, node in reachable(graph, functions, names, fed):
            if node.op in forward:
                continue
            why = refusal(node, functions, fed if path[-1] in graph else set())
            if why:
                found.append(f"{' <- '.join(path)}: {node.op} {why}")
    return found


def random_initializers(meta_graph):
    """Each variable whose initializer runs a random op (one with seed attributes), with those
    ops' nodes: initialised twice in one session, such a variable gets new values."""
    graph = {node.name: node for node in meta_graph.graph_def.node}
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    found = {}
    for variable in variable_defs(meta_graph):
        initializer = [node_name(variable.initializer_name)]
        ops = [
            (path[-1], node)
            for path, node in reachable(graph, functions, initializer, set())
            if "seed" in node.attr and "seed2" in node.attr
        ]
        if ops:
            found[node_name(variable.variable_name)] = ops
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


def roots(meta_graph, steps):
    """The graph's nodes the steps fetch, as two lists: every variable and its read op (the
    values are read after every ordering) and the initializers where run; and the Saver's
    restore op where run."""
    variables = list(variable_defs(meta_graph))
    names = [n for v in variables for n in (v.variable_name, v.snapshot_name) if n]
    if RUNS_INITIALIZERS & set(steps):
        names += [v.initializer_name for v in variables]
    restore = meta_graph.saver_def.restore_op_name
    restores = [node_name(restore)] if RUNS_SAVER & set(steps) and restore else []
    return [node_name(name) for name in dict.fromkeys(names)], restores


def reachable(graph, functions, roots, fed):
    """(path, node) for every node the roots reach, breadth first, the path a list of node
    names from a root; a function's nodes are named `function/node`. Inputs of `fed` nodes
    are not followed: a fed tensor is not computed."""
    queue = deque(([name], graph[name]) for name in roots if name in graph)
    seen, called = set(roots), set()
    while queue:
        path, node = queue.popleft()
        yield path, node
        if path[-1] in fed:
            continue
        if path[-1] in graph:
            for name in map(node_name, node.input):
                if name in graph and name not in seen:
                    seen.add(name)
                    queue.append(([*path, name], graph[name]))
        for function in called_functions(node, functions):
            if function not in called:
                called.add(function)
                for inner in functions[function].node_def:
                    queue.append(([*path, f"{function}/{inner.name}"], inner))


def called_functions(node, functions):
    """The library functions `node` calls: its op, or a function-valued attribute."""
    names = [node.op] if node.op in functions else []
    for attr in node.attr.values():
        names += [attr.func.name] if attr.HasField("func") else []
        names += [f.name for f in attr.list.func]
    return [name for name in names if name in functions]


def refusal(node, functions, fed):
    """Why `node` may not run, or None. A RestoreV2 may run only where it reads a `fed`
    tensor: the file the pipeline feeds to the Saver."""
    if node.op in functions:
        return None
    if node.op not in ALLOWED:
        return DANGERS.get(node.op, "is not needed to initialise or restore")
    if node.op == "RestoreV2" and node_name(node.input[0]) not in fed:
        return "reads a checkpoint other than the one restored"
    return None


def node_name(tensor):
    """The node a tensor or control input names: `^a`, `a:0` and `a` are node `a`."""
    return tensor.lstrip("^").split(":")[0]
