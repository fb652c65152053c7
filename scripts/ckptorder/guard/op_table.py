"""The guard's op table: the ops a graph it checks may run, where, and why the others may not;
and the ops importing a graph may evaluate (`evaluable_on_import`). Each op it allows has its
size rule in `graph_sizes` (SIZE_RULES), which a test holds."""

import functools
import importlib

from ckptorder.tfsession import op_def, tf

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
