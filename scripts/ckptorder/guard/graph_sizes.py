"""How much memory the ops of a graph can allocate, worked out from the graph alone.

An op that can give a larger tensor than any of its inputs (a constant, `Fill`, a random op,
`Tile`, a broadcasting `Mul`, ...) must have an output shape known before it runs, and no
larger than a budget; every other allowed op gives at most the size of an input (an
`Identity`, a cast, a reduction, a restore bounded by the checkpoint's own files, a call whose
body is checked op by op). SIZE_RULES names every op with a rule, and the guard allows no
other (a test checks it). So every tensor the checked graph computes is within the budget,
and so is all it allocates, since the growing ops' sizes are added up against a budget too.

Shapes are inferred here, not read from the graph's `_output_shapes`, which its writer sets.
A variable's declared shape is used only where TensorFlow enforces it: a reference variable
every assignment of which validates the shape. Pure protobuf: nothing is imported into
TensorFlow or run.
"""

import math
from collections import namedtuple

from ckptorder.tfsession import tf

# The budget of one tensor: this many times the checkpoint's largest, plus MARGIN bytes; of
# all the graph's allocations: this many times the whole checkpoint, plus MARGIN.
BUDGET_FACTOR = 4
MARGIN = 64 * 2**20
# Bytes of an element of a string tensor (TensorFlow's tstring) or of a type not listed.
STRING_BYTES = 24
DEFAULT_ELEMENT_BYTES = 8

UNARY = {
    *("Identity", "Neg", "Abs", "Sign", "Sqrt", "Rsqrt", "Square", "Exp", "Log", "Floor"),
    *("Cast", "ZerosLike", "OnesLike", "ReverseV2", "BiasAdd", "ReadVariableOp", "StopGradient"),
    *("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign", "LeakyRelu"),
    *("Erf", "Log1p", "Reciprocal", "Softmax", "LogSoftmax", "Round", "Ceil"),
    # A batch normalisation's first output is its input's shape; the others are smaller.
    "FusedBatchNormV3",
}
BROADCASTING = {
    *("Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "Pow"),
    *("Greater", "Less", "Equal", "Select", "SelectV2", "SquaredDifference", "DivNoNan"),
    *("GreaterEqual", "LessEqual", "NotEqual", "FloorDiv", "FloorMod"),
}
# Ops that rearrange or read part of their input, whose shape is worked out where known.
RESHAPING = {"DiagPart", "MatrixDiagPart", "Transpose", "Reshape"}
REDUCTIONS = {"Sum", "Mean", "Max", "Min", "Prod"}
# Ops whose output shape their `shape` (or `dims`) input gives.
SHAPED = {
    *("Fill", "RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal"),
    *("StatelessRandomUniformV2", "StatelessRandomNormalV2", "StatelessTruncatedNormalV2"),
    *("StatelessRandomUniform", "StatelessRandomNormal", "StatelessTruncatedNormal"),
    "BroadcastTo",
}
# Ops that may give more than any of their inputs: their size must be known and in budget.
# Windowed ops: their output is no larger than their input unless padded explicitly.
WINDOWED = {"Conv2D", "DepthwiseConv2dNative", "MaxPool", "AvgPool"}
GROWING = {"Const", "Tile", "Pad", "Range", "Diag", "MatMul", "Qr", "ConcatV2", "Pack"}
GROWING |= SHAPED | BROADCASTING | WINDOWED
# Ops that give no more than an input, part of one or a few numbers: structure and calls
# (a call's body is counted op by op), variables (bounded by what is assigned to them, itself
# sized) and their checks, a restore (bounded by the checkpoint's files), parts and views of a
# tensor, a shape, lookup tables (bounded by what fills them), an index per input element.
NO_LARGER = {
    *("NoOp", "IdentityN", "RefIdentity", "Placeholder", "PlaceholderWithDefault"),
    *("PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf"),
    *("Switch", "Merge", "RefSwitch", "RefMerge"),
    *("VariableV2", "VarHandleOp", "Assign", "AssignVariableOp"),
    *("IsVariableInitialized", "VarIsInitializedOp", "RestoreV2"),
    *("Slice", "StridedSlice", "Unpack", "ExpandDims", "Squeeze", "Shape", "Size", "Rank"),
    *("StatelessRandomGetAlg", "StatelessRandomGetKeyCounter", "StatelessRandomGetKeyCounterAlg"),
    *("HashTableV2", "InitializeTableV2", "InitializeTableFromTextFileV2", "LookupTableImportV2"),
    *("LookupTableFindV2", "LookupTableSizeV2", "ArgMax", "ArgMin"),
}
# Every op with a size rule here; each op the guard allows must have one (a test checks it),
# since any other op is taken to give no more than an input.
SIZE_RULES = frozenset(GROWING | UNARY | RESHAPING | REDUCTIONS | NO_LARGER)


Budget = namedtuple("Budget", "tensor total")


def budget(keys):
    """What the graph of a checkpoint (`keys`: name to (shape, dtype name)) may allocate:
    one tensor, BUDGET_FACTOR times the checkpoint's largest tensor plus MARGIN; all of its
    allocations added up, BUDGET_FACTOR times the whole checkpoint plus MARGIN."""
    sizes = [tensor_bytes(shape, dtype) for shape, dtype in keys.values()]
    return Budget(
        tensor=BUDGET_FACTOR * max(sizes, default=0) + MARGIN,
        total=BUDGET_FACTOR * sum(sizes) + MARGIN,
    )


def tensor_bytes(shape, dtype_name):
    """The bytes of a tensor of `shape` and TensorFlow's `dtype_name` (bfloat16 too)."""
    return math.prod(shape) * dtype_bytes(tf.as_dtype(dtype_name))


def dtype_bytes(dtype):
    if dtype == tf.string:
        return STRING_BYTES
    return dtype.size or DEFAULT_ELEMENT_BYTES


class Shapes:
    """The shapes (a tuple of sizes, None where unknown) and small integer values (a flat
    tuple) of one graph's or function's tensors, inferred op by op in topological order.
    A variable's handle carries the shape of the variable's value: reading it gives that.

    `arguments`: a function's arguments, name to (shape, value), as its caller gives them;
    `call(node, shapes, values)`: the (shape, value) of each output of a node that calls a
    function, inferred in its body, or None where the node calls none."""

    def __init__(self, fed_shapes, variable_shapes, arguments=None, call=None):
        self.shapes = {}
        self.values = {}
        for name, (shape, value) in (arguments or {}).items():
            self.shapes[(name, 0)] = shape
            if value is not None:
                self.values[(name, 0)] = value
        self.fed = fed_shapes
        self.variables = variable_shapes
        self.call = call

    def infer(self, name, node, inputs):
        """Record `node`'s outputs; `inputs`: the (node or argument, output) each data input
        reads, None where that is not known. Returns its output's size in bytes, or None
        where it is not known; 0 for an op that gives no more than an input, or a call (its
        body's nodes are counted)."""
        if self.call is not None:
            given = range(len(inputs))
            outputs = self.call(
                node,
                [self.input_shape(inputs, i) for i in given],
                [self.input_value(inputs, i) for i in given],
            )
            if outputs is not None:
                for index, (shape, value) in enumerate(outputs):
                    self.shapes[(name, index)] = shape
                    if value is not None:
                        self.values[(name, index)] = value
                return 0
        shape = self.shape_of(node, inputs)
        if node.op == "Qr":
            self.shapes[(name, 1)] = qr_r_shape(self.input_shape(inputs, 0))
        if node.op in ("Switch", "RefSwitch"):
            self.shapes[(name, 1)] = shape
        self.shapes[(name, 0)] = shape
        value = self.value_of(node, inputs, shape)
        if value is not None:
            self.values[(name, 0)] = value
        if node.op not in GROWING or grows_no_more_than_an_input(node, inputs, self):
            return 0
        if shape is None or None in shape:
            return None
        return math.prod(shape) * element_bytes(node)

    def input_shape(self, inputs, index):
        if index >= len(inputs) or inputs[index] is None:
            return None
        return self.shapes.get(inputs[index])

    def input_value(self, inputs, index):
        if index >= len(inputs) or inputs[index] is None:
            return None
        return self.values.get(inputs[index])

    def shape_of(self, node, inputs):
        op = node.op
        first = self.input_shape(inputs, 0)
        if op == "Const":
            return tuple(dim.size for dim in node.attr["value"].tensor.tensor_shape.dim)
        if op in ("Placeholder", "PlaceholderWithDefault"):
            return self.fed.get(node.name) or declared_shape(node.attr["shape"].shape)
        if op in ("VariableV2", "VarHandleOp"):
            return self.variables.get(node.name)
        if op == "LookupTableFindV2":
            return self.input_shape(inputs, 1)  # a value per key
        if op in UNARY or op in ("Assign", "Switch", "RefSwitch", "IdentityN", "RefIdentity"):
            return self.input_shape(inputs, 1) if op == "Assign" else first
        if op in RESHAPING:
            return reshaped(op, first, self.input_value(inputs, 1))
        if op in REDUCTIONS:
            return reduced(first, self.input_value(inputs, 1), node.attr["keep_dims"].b)
        if op in SHAPED:
            return as_shape(self.input_value(inputs, 0))
        if op in BROADCASTING:
            return broadcast([self.input_shape(inputs, i) for i in range(len(inputs))])
        if op == "Shape":
            return None if first is None else (len(first),)
        if op == "StridedSlice":
            return strided_slice(node, first, *(self.input_value(inputs, i) for i in (1, 2, 3)))
        return grown_shape(op, node, inputs, self)

    def value_of(self, node, inputs, shape):
        """The value of a small integer tensor (a shape), where it is known."""
        op = node.op
        if op == "Const":
            tensor = node.attr["value"].tensor
            integer = tensor.dtype in (tf.int32.as_datatype_enum, tf.int64.as_datatype_enum)
            if integer and shape is not None and math.prod(shape) <= 64:
                return tuple(int(v) for v in tf.make_ndarray(tensor).ravel())
            return None
        if op == "Shape":
            given = self.input_shape(inputs, 0)
            return given if given is not None and None not in given else None
        if op in ("Identity", "Cast"):
            return self.input_value(inputs, 0)
        if op == "StridedSlice":
            given = self.input_value(inputs, 0)
            if given is not None and self.input_shape(inputs, 0) == (len(given),):
                return sliced(node, given, *(self.input_value(inputs, i) for i in (1, 2, 3)))
        if op == "Pack":
            parts = [self.input_value(inputs, i) for i in range(len(inputs))]
            if all(part is not None and len(part) == 1 for part in parts):
                return tuple(part[0] for part in parts)
        if op == "ConcatV2":
            parts = [self.input_value(inputs, i) for i in range(len(inputs) - 1)]
            if all(part is not None for part in parts):
                return tuple(v for part in parts for v in part)
        return None


def reshaped(op, given, value):
    """The shape of an op that rearranges or reads part of its input, where it is known."""
    if given is None:
        return None
    if op == "DiagPart":
        return given[: len(given) // 2]
    if op == "MatrixDiagPart":
        return None if len(given) < 2 else (*given[:-2], min(given[-2:]))
    if value is None:
        return None
    if op == "Transpose":
        return tuple(given[i] for i in value) if sorted(value) == list(range(len(given))) else None
    # Reshape: one -1 takes what the others leave.
    if value.count(-1) > 1 or None in given:
        return None
    known = math.prod(v for v in value if v != -1)
    if -1 in value:
        return tuple(math.prod(given) // known if v == -1 else v for v in value) if known else None
    return tuple(value)


def strided_slice(node, given, begin, end, strides):
    """What a StridedSlice of `given` keeps, where it is known (no ellipsis or new axis): of a
    shape, the shape it gives; of a vector's values, the values it gives."""
    attr = node.attr
    if None in (given, begin, end, strides) or attr["ellipsis_mask"].i or attr["new_axis_mask"].i:
        return None
    if not len(begin) == len(end) == len(strides) <= len(given) or 0 in strides:
        return None
    kept = []
    for axis, (start, stop, stride) in enumerate(zip(begin, end, strides, strict=True)):
        size = given[axis]
        if attr["shrink_axis_mask"].i >> axis & 1:
            continue
        if size is None:
            kept.append(None)
            continue
        start = None if attr["begin_mask"].i >> axis & 1 else start
        stop = None if attr["end_mask"].i >> axis & 1 else stop
        kept.append(len(range(size)[start:stop:stride]))
    return (*kept, *given[len(begin) :])


def sliced(node, values, begin, end, strides):
    """The values a StridedSlice takes of a vector's `values` (a shape's, say), where known."""
    attr = node.attr
    spec = (begin, end, strides)
    if None in spec or any(len(part) != 1 for part in spec) or strides[0] == 0:
        return None
    if attr["ellipsis_mask"].i or attr["new_axis_mask"].i:
        return None
    start = None if attr["begin_mask"].i & 1 else begin[0]
    if attr["shrink_axis_mask"].i & 1:
        return (values[start],) if -len(values) <= (start or 0) < len(values) else None
    stop = None if attr["end_mask"].i & 1 else end[0]
    return tuple(values[start : stop : strides[0]])


def reduced(given, axes, keep_dims):
    """The shape a reduction over `axes` leaves, where it is known."""
    if given is None or axes is None:
        return None
    axes = {axis % len(given) for axis in axes} if given else set()
    if keep_dims:
        return tuple(1 if i in axes else d for i, d in enumerate(given))
    return tuple(d for i, d in enumerate(given) if i not in axes)


def grows_no_more_than_an_input(node, inputs, shapes):
    """A broadcasting op one of whose operands is a scalar gives the other operand's size; a
    pooling op not padded explicitly, at most its input's."""
    if node.op in ("MaxPool", "AvgPool"):
        return node.attr["padding"].s != b"EXPLICIT"
    if node.op not in BROADCASTING or len(inputs) != 2:
        return False
    return any(shapes.input_shape(inputs, i) == () for i in range(2))


def grown_shape(op, node, inputs, shapes):
    """The output shape of the remaining ops that may grow, where it is known."""
    first = shapes.input_shape(inputs, 0)
    if op == "Tile":
        multiples = shapes.input_value(inputs, 1)
        if first is None or multiples is None or len(first) != len(multiples):
            return None
        return tuple(None if d is None else d * m for d, m in zip(first, multiples, strict=True))
    if op == "Pad":
        paddings = shapes.input_value(inputs, 1)
        if first is None or paddings is None or len(paddings) != 2 * len(first):
            return None
        added = [a + b for a, b in zip(paddings[::2], paddings[1::2], strict=True)]
        return tuple(None if d is None else d + a for d, a in zip(first, added, strict=True))
    if op == "Range":
        start, limit, delta = (shapes.input_value(inputs, i) for i in range(3))
        if None in (start, limit, delta) or delta[0] == 0:
            return None
        return (max(0, math.ceil((limit[0] - start[0]) / delta[0])),)
    if op == "Diag":
        return None if first is None else first + first
    if op == "MatMul":
        return matmul_shape(node, first, shapes.input_shape(inputs, 1))
    if op == "Qr":
        return qr_q_shape(node, first)
    if op == "Pack":
        parts = [shapes.input_shape(inputs, i) for i in range(len(inputs))]
        if any(part is None for part in parts) or len(set(parts)) != 1:
            return None
        return (len(parts), *parts[0])
    if op == "ConcatV2":
        return concat_shape([shapes.input_shape(inputs, i) for i in range(len(inputs) - 1)])
    if op in WINDOWED:
        return windowed_shape(node, first, shapes.input_shape(inputs, 1))
    return None


def matmul_shape(node, a, b):
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return None
    rows = a[1] if node.attr["transpose_a"].b else a[0]
    columns = b[0] if node.attr["transpose_b"].b else b[1]
    return rows, columns


def qr_q_shape(node, given):
    if given is None or len(given) < 2:
        return None
    *batch, rows, columns = given
    if None in given:
        return None
    return (*batch, rows, rows if node.attr["full_matrices"].b else min(rows, columns))


def qr_r_shape(given):
    if given is None or len(given) < 2 or None in given:
        return None
    *batch, rows, columns = given
    return (*batch, min(rows, columns), columns)


def concat_shape(parts):
    """An upper bound of a concatenation's size, as a one-dimensional shape."""
    if not parts or any(part is None or None in part for part in parts):
        return None
    return (sum(math.prod(part) for part in parts),)


def windowed_shape(node, given, kernel):
    """The output shape of a convolution or pooling op (windows over the input's spatial
    dimensions), or an upper bound of it where its padding is explicit."""
    if given is None or len(given) != 4 or None in given:
        return None
    channels_first = node.attr["data_format"].s == b"NCHW"
    spatial = (2, 3) if channels_first else (1, 2)
    channel = 1 if channels_first else 3
    strides = list(node.attr["strides"].list.i) or [1] * 4
    sizes = list(node.attr["ksize"].list.i) if node.op in ("MaxPool", "AvgPool") else None
    if node.op in ("Conv2D", "DepthwiseConv2dNative"):
        if kernel is None or len(kernel) != 4 or None in kernel:
            return None
        sizes = [1, *kernel[:2], 1] if not channels_first else [1, 1, *kernel[:2]]
    padding = node.attr["padding"].s
    explicit = list(node.attr["explicit_paddings"].list.i)
    shape = list(given)
    for axis in spatial:
        if len(strides) != 4 or strides[axis] < 1 or sizes is None or len(sizes) != 4:
            return None
        added = sum(explicit[2 * axis : 2 * axis + 2]) if padding == b"EXPLICIT" else 0
        if added < 0 or (padding == b"EXPLICIT" and len(explicit) != 8):
            return None
        shape[axis] = -(-(given[axis] + added) // strides[axis])
    if node.op == "Conv2D":
        shape[channel] = kernel[3]
    if node.op == "DepthwiseConv2dNative":
        shape[channel] = kernel[2] * kernel[3]
    return tuple(shape)


def broadcast(shapes):
    if any(shape is None for shape in shapes):
        return None
    rank = max((len(shape) for shape in shapes), default=0)
    padded = [(1,) * (rank - len(shape)) + tuple(shape) for shape in shapes]
    result = []
    for dims in zip(*padded, strict=True):
        known = [d for d in dims if d != 1]
        if None in known:
            result.append(None)
        else:
            result.append(max(known, default=1))
    return tuple(result)


def as_shape(value):
    if value is None or any(v < 0 for v in value):
        return None
    return tuple(value)


def declared_shape(shape_proto):
    if shape_proto.unknown_rank:
        return None
    return tuple(None if dim.size < 0 else dim.size for dim in shape_proto.dim)


def element_bytes(node):
    for key in ("dtype", "DstT", "T", "Tidx"):
        if key in node.attr and node.attr[key].type:
            return dtype_bytes(tf.as_dtype(node.attr[key].type))
    return DEFAULT_ELEMENT_BYTES
