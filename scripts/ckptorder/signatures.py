"""A SavedModel's serving signatures as its inference check: each is run after each load on a
fixed batch made from its input specs (seeded; an unknown dimension UNKNOWN_DIMENSION long),
and each output is compared with the same output after the first load that restored every
variable bit for bit. Written to the values folder as `inference.json`, as the built
network's check (`inference.py`), one entry per signature output (`SIGNATURE/OUTPUT`).

A signature is a program too. Before each run, the guard checks what it runs
(`checks.forward_refusals`): every op on the allow-list, pure math on the forward path,
and every size known and within the checkpoint's budget, given the batch and the shapes of the
variables the load left (read from the loaded variables themselves, since a resource
variable's declared shape binds nothing). A signature that is refused, or cannot be given such
a batch, or raises, is reported in its rows' `error`; the loads' values stand.
"""

import functools
import json
from collections import namedtuple
from pathlib import Path

import numpy as np

from ckptorder import inference, orderings
from ckptorder.atomic import write_text
from ckptorder.guard import checks, graph_sizes, savedmodel_parts
from ckptorder.guard.graph_program import GRAPH, Program, node_name, walk
from ckptorder.inference import UNINITIALIZED_READ, failed_check
from ckptorder.tfgraph import failure
from ckptorder.tfsession import is_variable, tf
from ckptorder.values import INFERENCE

# The signature a TF2 SavedModel lists its init op under: not a signature to run.
INIT_OP_SIGNATURE = "__saved_model_init_op"
UNKNOWN_DIMENSION = 2
SEED = 0
# What LoadedShapes reads as the shape of a variable that is not initialized: it has none.
NO_SHAPE = object()
# What rows say where no load restored every variable and ran the signature.
NO_REFERENCE = "no load restored every variable and ran this signature: nothing to compare with"

Signature = namedtuple("Signature", "name inputs outputs")
# What a load runs the signatures with: `in_graph(sess, graph)` by their tensors' names (TF1's
# loader.load), `functions(loaded, sess)` as tf.saved_model.load gave them (sess None: eager).
Runner = namedtuple("Runner", "in_graph functions")


def signatures(meta_graph):
    """The SavedModel's serving signatures, by name: each input's TensorInfo and each output's
    tensor name, by key."""
    return [
        Signature(
            name,
            dict(sorted(definition.inputs.items())),
            {key: info.name for key, info in sorted(definition.outputs.items())},
        )
        for name, definition in sorted(meta_graph.signature_def.items())
        if name != INIT_OP_SIGNATURE
    ]


def batch(signature, budget):
    """The fixed batch of `signature`'s inputs, by key. Raises ValueError for an input no
    batch is made for (not a dense tensor of known rank and a number, bool or string type) or
    one over the budget of a tensor."""
    rng = np.random.default_rng(SEED)
    made = {}
    for key, info in signature.inputs.items():
        if info.WhichOneof("encoding") != "name" or info.tensor_shape.unknown_rank:
            raise ValueError(f"input {key} is not a dense tensor of known rank")
        shape = tuple(d.size if d.size >= 0 else UNKNOWN_DIMENSION for d in info.tensor_shape.dim)
        dtype = tf.as_dtype(info.dtype)
        size = graph_sizes.tensor_bytes(shape, dtype.name)
        if size > budget.tensor:
            raise ValueError(
                f"input {key} of shape {list(shape)} takes {size:,} bytes, over the budget of"
                f" {budget.tensor:,} bytes a tensor"
            )
        made[key] = random_values(rng, shape, dtype, key)
    return made


def random_values(rng, shape, dtype, key):
    if dtype.is_floating:
        return rng.standard_normal(shape).astype(dtype.as_numpy_dtype)
    if dtype.is_integer:
        return rng.integers(0, 8, shape).astype(dtype.as_numpy_dtype)
    if dtype == tf.bool:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == tf.string:
        # Empty: a valid string, and a valid serialized tf.Example with no feature (what an
        # Estimator's serving signature parses), so that a parse op with defaults can run.
        return np.full(shape, b"", dtype=object)
    raise ValueError(f"input {key} is of type {dtype.name}, of which no batch is made")


class SignatureCheck:
    """The signatures of one SavedModel, run after each load: `results`, state to output
    name to its value, or the error that stopped it."""

    def __init__(self, meta_graph, budget, trust):
        self.meta_graph, self.budget, self.trust = meta_graph, budget, trust
        self.program = Program(meta_graph.graph_def)
        self.signatures = signatures(meta_graph)
        self.batches = {}
        for signature in self.signatures:
            try:
                self.batches[signature.name] = batch(signature, budget)
            except ValueError as error:
                self.batches[signature.name] = f"{orderings.NO_BATCH}{error}"
        self.object_signatures = None
        if meta_graph.object_graph_def.nodes:
            self.object_signatures = savedmodel_parts.signature_functions(meta_graph)
        self.handles = {
            signature.name: self.variable_ops(signature) for signature in self.signatures
        }
        self.results = {}
        self.guarded = {}

    def outputs(self, signature):
        return [f"{signature.name}/{key}" for key in signature.outputs]

    def variable_ops(self, signature):
        """The graph's resource variables the graph's signature reads, by node name."""
        reached = walk(self.program, [node_name(t) for t in signature.outputs.values()])
        return [
            key[1]
            for key in reached
            if key[0] is GRAPH and self.program.node(key).op == "VarHandleOp"
        ]

    def fed_shapes(self, signature):
        made = self.batches[signature.name]
        return {info.name: made[key].shape for key, info in signature.inputs.items()}

    def cleared_to_run(self, state, signature, shapes, functions=None):
        """Whether the signature may run after a load that left the variables it reads of
        `shapes` (None where one is uninitialized): by graph node, or, for `functions` (what
        tf.saved_model.load runs of it), in the order the function captures them. Where not,
        its rows are written here, saying why: its batch could not be made, the guard refuses
        what it runs (its ops, then its sizes given the batch and those shapes), or it would
        read an uninitialized variable."""
        refused = self.batches[signature.name]
        # Trusted, it runs as it is: TensorFlow says what stops it.
        if not isinstance(refused, str) and not self.trust:
            refused = self.guard(signature, shapes, functions)
            if not isinstance(refused, str) and shapes is None:
                refused = UNINITIALIZED_READ
        if isinstance(refused, str):
            self.failed(state, signature, refused)
            return False
        return True

    def guard(self, signature, shapes, functions):
        """The guard's first objection to running `signature`, or None; the same for each
        load that leaves the variables it reads the same shapes. Without `functions`, what the
        graph's signature runs; else each of those functions, called with the batch and the
        captured variables."""
        known = (signature.name, frozen(shapes), tuple(functions or ()))
        if known in self.guarded:
            return self.guarded[known]
        budget = None if shapes is None else self.budget
        if functions is None:
            found = checks.forward_refusals(
                self.meta_graph,
                budget,
                outputs=list(signature.outputs.values()),
                fed_shapes=self.fed_shapes(signature),
                variable_shapes=shapes,
            )
        else:
            found = [
                line
                for function in functions
                for line in checks.forward_refusals(
                    self.meta_graph,
                    budget,
                    function=function,
                    arguments=self.arguments(signature, function, shapes or []),
                )
            ] or ([] if functions else ["the object graph names no function for it"])
        self.guarded[known] = orderings.guard_refusal(found)
        return self.guarded[known]

    def arguments(self, signature, function, captured):
        """The shape of each argument of `function`: the batch's inputs by name, then the
        `captured` variables' shapes, in order."""
        made = self.batches[signature.name]
        declared = self.program.functions.get(function)
        names = [a.name for a in declared.signature.input_arg] if declared else []
        given = {name: made[name].shape for name in names if name in made}
        rest = [name for name in names if name not in made]
        if len(rest) == len(captured):
            given |= dict(zip(rest, captured, strict=True))
        return given

    def record(self, state, signature, run):
        """Record `run()`'s outputs (key to value) for `signature`, or what it raised."""
        try:
            values = run()
        except (tf.errors.OpError, ValueError, TypeError) as error:
            self.failed(state, signature, run_failure(error))
            return
        for key in signature.outputs:
            self.results.setdefault(state, {})[f"{signature.name}/{key}"] = np.asarray(values[key])

    def failed(self, state, signature, error):
        for name in self.outputs(signature):
            self.results.setdefault(state, {})[name] = error

    def failed_all(self, state, error):
        for signature in self.signatures:
            self.failed(state, signature, error)

    def runner(self, state):
        return Runner(
            functools.partial(self.run_in_graph, state),
            functools.partial(self.run_functions, state),
        )

    def run_in_graph(self, state, sess, graph):
        """Run each signature by its tensors' names in `graph` (loaded by TF1's loader.load)."""
        loaded = LoadedShapes(sess)
        for signature in self.signatures:
            handles = self.handles[signature.name]
            shapes = loaded.of([graph.get_tensor_by_name(f"{name}:0") for name in handles])
            if shapes is not None:
                shapes = dict(zip(handles, shapes, strict=True))
            if not self.cleared_to_run(state, signature, shapes):
                continue
            made = self.batches[signature.name]
            feed = {info.name: made[key] for key, info in signature.inputs.items()}
            fetches = signature.outputs
            self.record(state, signature, lambda f=fetches, d=feed: sess.run(f, d))

    def run_functions(self, state, loaded, sess=None):
        """Run each signature as tf.saved_model.load gave it: in `sess`'s graph, or eager. A
        TF2 SavedModel's is the function its object graph names (guarded as such); a TF1
        one's, the graph's signature."""
        held = LoadedShapes(sess)
        for signature in self.signatures:
            function = loaded.signatures.get(signature.name)
            if function is None:
                self.failed(state, signature, "tf.saved_model.load gave no such signature")
                continue
            functions = None
            if self.object_signatures is not None:
                functions = self.object_signatures.get(signature.name, [])
                shapes = held.of(function.captured_inputs)
            else:  # a TF1 graph's signature: its variables, by their names in the graph
                variables = list(function.variables)
                read = held.of([variable.handle for variable in variables])
                names = [node_name(variable.name) for variable in variables]
                shapes = None if read is None else dict(zip(names, read, strict=True))
            if not self.cleared_to_run(state, signature, shapes, functions):
                continue
            made = {k: tf.constant(v) for k, v in self.batches[signature.name].items()}
            if sess is None:
                self.record(state, signature, lambda f=function, m=made: eager(f(**m)))
            else:
                self.record(state, signature, lambda f=function, m=made: sess.run(f(**m)))

    def write(self, folder, states, restored_everything):
        """inference.json: each state's outputs against those of the first state of
        `restored_everything` (those that restored every variable) that ran them all."""
        checks = {}
        for signature in self.signatures:
            ran = [
                self.results.get(state, {})
                for state in states
                if state in restored_everything
                and all(
                    not isinstance(self.results.get(state, {}).get(name, ""), str)
                    for name in self.outputs(signature)
                )
            ]
            reference = ran[0] if ran else None
            for state in states:
                for name in self.outputs(signature):
                    given = self.results.get(state, {}).get(name, "not run")
                    checks.setdefault(state, {})[name] = compared(given, reference, name)
        write_text(Path(folder) / INFERENCE, json.dumps(checks, sort_keys=True))


def compared(given, reference, name):
    """The check of output `name`'s value `given` (or its error) against `reference`'s."""
    if isinstance(given, str):
        return failed_check(given)
    if reference is None:
        return failed_check(NO_REFERENCE)
    return inference.compared(given, reference[name], "the reference's")


def run_failure(error):
    """What a row says of a run that raised `error`: a read of an uninitialized variable in
    the same words whichever variable TensorFlow names (it varies from run to run)."""
    if isinstance(error, tf.errors.FailedPreconditionError) and "uninitialized" in error.message:
        return UNINITIALIZED_READ
    return failure(error)


def eager(outputs):
    return {key: value.numpy() for key, value in outputs.items()}


class LoadedShapes:
    """The shapes of the values of a load's variables, read once each, by their handles: in
    `sess`'s graph, or eager (sess None)."""

    def __init__(self, sess):
        self.sess, self.known = sess, {}

    def of(self, tensors):
        """The shape of each of `tensors` (variables' handles, or what a function captures): a
        variable's value's, read; another tensor's own where it is known (None for another
        resource: a table); None for all where a variable is not initialized."""
        missing = list({t.ref(): t for t in tensors if t.ref() not in self.known}.values())
        variables = [t for t in missing if is_variable(t)]
        shapes = dict(zip((t.ref() for t in variables), self.read(variables), strict=True))
        for tensor in missing:
            self.known[tensor.ref()] = shapes.get(tensor.ref(), own_shape(tensor))
        found = [self.known[t.ref()] for t in tensors]
        return None if any(shape is NO_SHAPE for shape in found) else found

    def read(self, handles):
        """Each variable's shape, NO_SHAPE where it is not initialized: in one call of
        each kind."""
        if not handles:
            return []
        flags = [tf.raw_ops.VarIsInitializedOp(resource=h) for h in handles]
        if self.sess is not None:
            flags = self.sess.run(flags)
        ready = [handle for handle, flag in zip(handles, flags, strict=True) if bool(flag)]
        shapes = [tf.raw_ops.VariableShape(input=h) for h in ready]
        if self.sess is not None:
            shapes = self.sess.run(shapes)
        found = {
            h.ref(): tuple(int(d) for d in shape) for h, shape in zip(ready, shapes, strict=True)
        }
        return [found.get(h.ref(), NO_SHAPE) for h in handles]


def own_shape(tensor):
    """A tensor's static shape where it is known, None for another resource (a table)."""
    if tensor.dtype == tf.resource or not tensor.shape.is_fully_defined():
        return None
    return tuple(tensor.shape)


def frozen(shapes):
    """`shapes` (a dict, a list or None) as a key."""
    if isinstance(shapes, dict):
        return tuple(sorted(shapes.items()))
    return None if shapes is None else tuple(shapes)
