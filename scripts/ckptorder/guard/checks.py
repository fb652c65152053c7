"""The guard's checks of what the audit runs of a graph (`refusals`) and of the inference
check's path (`forward_refusals`): one line per op it refuses, with the path to it."""

from ckptorder.guard.graph_program import (
    GRAPH,
    Program,
    clean,
    cycles,
    is_leaf,
    node_name,
    path,
    placeholders,
    reads,
    walk,
)
from ckptorder.guard.importing import roots
from ckptorder.guard.op_table import ALLOWED, DANGEROUS, DANGERS, FORWARD_ALLOWED, READS_AN_ASSET
from ckptorder.guard.savedmodel_parts import NO_ASSETS
from ckptorder.guard.size_checks import oversized


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
            return other_checkpoint(program, key)
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
        return other_checkpoint(program, key)
    unresolved = placeholders(program, key) if key[0] is not GRAPH else []
    if unresolved:
        return f"names attribute(s) {', '.join(unresolved)} its function does not declare"
    return None


# The ops a prefix passes through unchanged.
PASS_ON = ("PlaceholderWithDefault", "Identity")


def other_checkpoint(program, key):
    """Why a RestoreV2 node that reads another checkpoint is refused, naming the prefix it
    reads where a constant gives it (a warm start's source, the Saver's default file)."""
    why = "reads a checkpoint other than the one restored"
    source, seen = first_input(program, key), set()
    # A Saver's prefix is a PlaceholderWithDefault of its default file's constant (in a
    # crafted graph, maybe a cycle: `seen`).
    while source is not None and source[0] not in seen and program.node(source[0]).op in PASS_ON:
        seen.add(source[0])
        source = first_input(program, source[0])
    node = program.node(source[0]) if source is not None and source[1] == 0 else None
    values = node.attr["value"].tensor.string_val if node is not None and node.op == "Const" else []
    return f"{why}: {values[0].decode(errors='replace')!r}" if len(values) == 1 else why


def first_input(program, key):
    """(node, output index) of node `key`'s first input; None for none, or an argument."""
    inputs = program.inputs(key)
    return inputs[0] if inputs else None


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
