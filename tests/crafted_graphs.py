"""Graph parts crafted as protocol buffers, what TensorFlow's Python API would not build: the
guard's tests edit honest graphs and SavedModels with them."""

from tensorflow.core.framework.function_pb2 import FunctionDef

from ckptorder.tfsession import tf


def const_node(name, value):
    node = tf.compat.v1.NodeDef(name=name, op="Const")
    tensor = tf.make_tensor_proto(value)
    node.attr["dtype"].type = tensor.dtype
    node.attr["value"].tensor.CopyFrom(tensor)
    return node


def call_node(name, function):
    """A StatefulPartitionedCall of `function` (a NameAttrList, or an attribute placeholder's
    name) with no inputs and one float output."""
    node = tf.compat.v1.NodeDef(name=name, op="StatefulPartitionedCall")
    node.attr["Tin"].list.SetInParent()
    node.attr["Tout"].list.type.append(tf.float32.as_datatype_enum)
    if isinstance(function, str):
        node.attr["f"].placeholder = function
    else:
        node.attr["f"].func.CopyFrom(function)
    return node


def function_def(name, nodes, output, attrs=()):
    """A function of no inputs returning the float `output`, with func-valued `attrs` (name
    to the default function's name, or None)."""
    function = FunctionDef()
    function.signature.name = name
    for attr, default in attrs:
        declared = function.signature.attr.add(name=attr, type="func")
        if default:
            declared.default_value.func.name = default
    function.signature.output_arg.add(name="out", type=tf.float32.as_datatype_enum)
    function.node_def.extend(nodes)
    function.ret["out"] = output
    return function


def evil(target):
    """A function that writes `target`, then returns 0."""
    write = tf.compat.v1.NodeDef(name="w", op="WriteFile", input=["c:output:0", "d:output:0"])
    zero = const_node("z", 0.0)
    zero.input.append("^w")
    nodes = [const_node("c", str(target)), const_node("d", "written"), write, zero]
    return function_def("Evil", nodes, "z:output:0")


def name_attr_list(name, **functions):
    listed = tf.compat.v1.NameAttrList(name=name)
    for attr, function in functions.items():
        listed.attr[attr].func.name = function
    return listed


def depends_on(meta_graph, name, call):
    """`call` added to the graph, made a control input of node `name`."""
    meta_graph.graph_def.node.append(call)
    next(n for n in meta_graph.graph_def.node if n.name == name).input.append(f"^{call.name}")
