"""A graph and its function library as the guard reads them: each node's inputs, the functions
it names, and what a set of nodes reaches (`walk`), read from the protocol buffer alone."""

from collections import deque

from ckptorder.tfsession import op_def

# A node of the graph is (None, name); a node of a function's body is (function, name).
GRAPH = None


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


def node_name(tensor):
    """The node a tensor or control input names: `^a`, `a:0` and `a` are node `a`."""
    return tensor.lstrip("^").split(":")[0]
