"""The guard's size check: what each op that can give more than its inputs allocates, inferred
op by op (`graph_sizes`), within the budget tied to the checkpoint."""

from ckptorder.guard import graph_sizes
from ckptorder.guard.graph_program import (
    GRAPH,
    attr_functions,
    node_name,
    path,
    scopes,
    topological,
)


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
