"""What a graph's initializers are, read from its protocol buffer: random (seeded or not),
constant, or copies of other variables. restore's graph facts (`graph.json`) say so."""

from ckptorder.guard.graph_program import GRAPH, Program, node_name, walk
from ckptorder.guard.op_table import RANDOM_OPS, VARIABLE_NODE_OPS
from ckptorder.tfsession import op_def, variable_defs


def seeds(node):
    """(seed, seed2) of a node of a stateful random op (one whose OpDef declares both), each 0
    where the node lacks it: a graph written with default attributes stripped (every Estimator
    export) keeps only those that are not 0. None for any other op."""
    declared = op_def(node.op)
    names = {attr.name for attr in declared.attr} if declared else set(node.attr)
    if not {"seed", "seed2"} <= names:
        return None
    return tuple(node.attr[name].i if name in node.attr else 0 for name in ("seed", "seed2"))


def random_initializers(meta_graph):
    """Each variable whose initializer runs a stateful random op (`seeds`), with those ops'
    nodes: initialised twice in one session, such a variable gets new values."""
    program = Program(meta_graph.graph_def)
    found = {}
    for variable in variable_defs(meta_graph):
        reached = walk(program, [node_name(variable.initializer_name)])
        ops = [
            (key[1] if key[0] is GRAPH else f"{key[0]}/{key[1]}", program.node(key))
            for key in reached
            if seeds(program.node(key)) is not None
        ]
        if ops:
            found[node_name(variable.variable_name)] = ops
    return found


def constant_initializers(meta_graph):
    """The variables whose initializer draws no random number, stateful or stateless, and
    reads no checkpoint (zeros, ones, a constant): the same values on every run, whatever the
    seeds."""
    return sorted(
        variable
        for variable, ops in initializer_ops(meta_graph).items()
        if not ops & (RANDOM_OPS | {READS_A_CHECKPOINT})
    )


def checkpoint_initializers(meta_graph):
    """The variables whose initializer reads a checkpoint (a warm start: init_from_checkpoint
    makes each initializer a restore of another file): theirs are that file's values."""
    return sorted(
        variable
        for variable, ops in initializer_ops(meta_graph).items()
        if READS_A_CHECKPOINT in ops
    )


# The op a restore of a checkpoint runs.
READS_A_CHECKPOINT = "RestoreV2"


def initializer_ops(meta_graph):
    """Each variable's name, to the op types its initializer runs."""
    program = Program(meta_graph.graph_def)
    return {
        node_name(variable.variable_name): {
            program.node(key).op for key in walk(program, [node_name(variable.initializer_name)])
        }
        for variable in variable_defs(meta_graph)
    }


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
        names = [name for name, node in ops if seeds(node) == (0, 0)]
        if names:
            found[variable] = names
    return found
