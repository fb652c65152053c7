"""A TF2 object-based checkpoint brought from outside (tf.train.Checkpoint's files: an index
holding an object graph), listed and, given the user's model, restored into it each way of
`formats.given_object_ckpt`; or a TF1 checkpoint restored into the user's TF2 model, which
tf.train.Checkpoint reads by variable name (each variable takes the key of its name).

tf.train.Checkpoint does not match a model's variables to keys by name: it walks the model's
objects and the checkpoint's object graph together from the root, child by child, by the names
the objects track each other under, and gives each variable it reaches the value of the node it
reaches. A key names one path to its node (the first a breadth-first walk finds), so a Keras
model's kernel may be kept as `optimizer/_trainable_variables/0` and restored through
`model/_operations/1/_kernel`. Each key is listed here with every object path to it (one per
parent), and a model's variable is matched to a key by that same walk (`matched_keys`).

Without a model, the run lists the checkpoint: `saved.npz` (each variable's value, by its key
without `/.ATTRIBUTES/VARIABLE_VALUE`) and its keys in `graph.json`'s compatibility rows. With
one, `model: FILE.py:FUNCTION` (run only where trusted: it is code), FUNCTION builds what to
restore into: one trackable object (the checkpoint's root) or a dict of them (the
tf.train.Checkpoint(**dict) that wrote it). Each variable is then named by its path in the
model, `saved` is the value of the key it is matched to, `initial` what its initializer gives
in a fresh graph, and each ordering records the values, the status checks and TensorFlow's
warning of unrestored values, as the built model's object_ckpt orderings do.
"""

import importlib.util
import json
import logging
import sys
import time
from collections import deque
from pathlib import Path

from ckptorder import compatibility, initializer_facts, orderings, tfgraph
from ckptorder.atomic import write_text
from ckptorder.checkpoint_files import OBJECT_GRAPH_KEY, has_object_graph
from ckptorder.formats import given_object_ckpt, object_ckpt
from ckptorder.object_checkpoints import (
    assertion_results,
    status_call,
    tensorflow_warnings,
    unrestored_warning,
)
from ckptorder.object_paths import VALUE_SUFFIX, escaped, variable_keys, variable_name, walked
from ckptorder.tfsession import (
    allow_keras,
    checkpoint_object_graph,
    name_based_keys,
    session,
    tf,
    use_tf2_behavior,
)
from ckptorder.values import (
    ASSERTIONS_FILE,
    state_paths,
    write_failure,
    write_graph_facts,
    write_values,
)

# An object graph attribute's name for a variable's value.
VARIABLE_VALUE = "VARIABLE_VALUE"


def key_paths(graph):
    """Each checkpoint key of the object graph, without VALUE_SUFFIX, to every object path to
    its node: breadth first from the root, one path per parent (each parent by the first path
    to it)."""
    first = {0: ""}
    paths = {}
    queue = deque([0])
    while queue:
        node_id = queue.popleft()
        node = graph.nodes[node_id]
        for attribute in node.attributes:
            paths.setdefault(variable_name(attribute.checkpoint_key), [])
        for child in node.children:
            path = f"{first[node_id]}/{escaped(child.local_name)}".lstrip("/")
            for attribute in graph.nodes[child.node_id].attributes:
                paths.setdefault(variable_name(attribute.checkpoint_key), []).append(path)
            if child.node_id not in first:
                first[child.node_id] = path
                queue.append(child.node_id)
    return {key: sorted(set(found)) for key, found in paths.items()}


def listed_rows(reader, graph):
    """The compatibility rows of a checkpoint without a model: one per key (needs_model)."""
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    paths = key_paths(graph)
    return [
        compatibility.row(
            "",
            variable_name(key),
            None,
            (shapes[key], dtypes[key].name),
            compatibility.NEEDS_MODEL,
            None,
            paths.get(variable_name(key), []),
        )
        for key in sorted(shapes)
        if key != OBJECT_GRAPH_KEY
    ]


def load_model(model):
    """What FUNCTION of `model` (FILE.py:FUNCTION) returns, as (a tf.train.Checkpoint of it, the
    object its paths start from): a dict of trackables as the Checkpoint's named children, one
    trackable as its root. Raises ValueError."""
    built = built_model(model)
    if isinstance(built, dict):
        checkpoint = tf.train.Checkpoint(**built)
        return checkpoint, checkpoint
    return tf.train.Checkpoint(root=built), built


def built_model(model):
    """What FUNCTION of `model` (FILE.py:FUNCTION) returns. Raises ValueError."""
    path, _, function = model.rpartition(":")
    allow_keras()
    # As `python FILE.py` would: the file's folder first, for the modules beside it.
    folder = str(Path(path).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        if not callable(getattr(module, function, None)):
            raise ValueError(f"{path} defines no function {function!r}")
        seed_random_numbers()
        return getattr(module, function)()
    except Exception as error:  # the user's code: whatever it raises is the model's problem
        raise ValueError(f"model {model}: {type(error).__name__}: {error}") from None


# The seed each build of a model starts from.
MODEL_SEED = 0


def seed_random_numbers():
    """Seed what a model's initializers draw from (TensorFlow's, and Keras's where the model
    imported Keras), the same before each build: each ordering builds the model anew, and only
    an initializer that gives the same values each time shows a re-initialised variable as
    `reinitialized` (the run's results are the same bytes each time too)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.utils.set_random_seed(MODEL_SEED)
    else:
        tf.random.set_seed(MODEL_SEED)


def model_variables(root):
    """Each variable reachable from `root`, by its object path."""
    found = {}
    for path, obj in walked(root):
        variable = variable_of(obj)
        if variable is not None:
            found.setdefault(path, variable)
    return found


def keys_by_name(root, prefix):
    """Each variable reachable from `root` (by id) to the key a name-based restore of the TF1
    checkpoint `prefix` reads into it, named as TensorFlow names it: a tf.Variable's name; a
    Keras 3 variable's attribute, VARIABLE_VALUE, which no TF1 checkpoint holds."""
    keys_of = name_based_keys(prefix)
    found = {}
    for _, obj in walked(root):
        variable = variable_of(obj)
        if variable is not None:
            for key in keys_of(obj):
                found.setdefault(id(variable), key)
    return found


def variable_of(obj):
    """The tf.Variable `obj` is or holds (a Keras 3 variable holds one as its `value`), or
    None."""
    if isinstance(obj, tf.Variable):
        return obj
    if isinstance(getattr(type(obj), "value", None), property):
        held = obj.value
        return held if isinstance(held, tf.Variable) else None
    return None


def matched_keys(root, graph):
    """Each variable of `root` (by id) a restore reaches, to the key (without VALUE_SUFFIX) of
    the value it gives: `root`'s objects and the object graph's nodes walked together from the
    root, child by child, by name."""
    found, seen = {}, set()
    queue = deque([(root, 0)])
    while queue:
        obj, node_id = queue.popleft()
        if (id(obj), node_id) in seen:
            continue
        seen.add((id(obj), node_id))
        node = graph.nodes[node_id]
        variable = variable_of(obj)
        if variable is not None:
            for attribute in node.attributes:
                if attribute.name == VARIABLE_VALUE:
                    found.setdefault(id(variable), variable_name(attribute.checkpoint_key))
        children = tf.train.TrackableView(obj).children(obj)
        for child in node.children:
            if child.local_name in children:
                queue.append((children[child.local_name], child.node_id))
    return found


def spec_of(variable):
    return tuple(variable.shape.as_list()), variable.dtype.base_dtype.name


def model_rows(reader, graph, variables, matched):
    """The compatibility rows of a checkpoint against the model's `variables` (path to
    variable), each matched (`matched`: path to key) or not; a TF2 key's with its object paths
    (`graph`: its object graph; None for a TF1 checkpoint)."""
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    keys = {
        variable_name(key): (tuple(shapes[key]), dtypes[key].name)
        for key in sorted(shapes)
        if key != OBJECT_GRAPH_KEY
    }
    specs = {path: spec_of(variable) for path, variable in variables.items()}
    return compatibility.rows(specs, keys, matched, key_paths(graph) if graph else {})


def audit_given_object_checkpoint(prefix, settings, threads, output):
    """Write into `output` the checkpoint's `saved` values and its compatibility rows and,
    given the settings' model, its `initial` values and those each ordering leaves. Raises
    ValueError for a damaged checkpoint, or a model that cannot be built."""
    use_tf2_behavior(threads)
    paths = state_paths(output, orderings.states(settings["orderings"]))
    with tfgraph.checkpoint_errors(prefix):
        tfgraph.checkpoint_keys(prefix)  # a damaged index, or one declaring more than is there
        reader = tf.train.load_checkpoint(prefix)
        graph = None
        if has_object_graph(f"{prefix}.index"):
            graph = checkpoint_object_graph(reader, prefix)
        if settings["model"] is None:
            list_checkpoint(reader, graph, paths, output)
            return
        matched = match_model(reader, prefix, graph, settings["model"], paths["saved"])
    initial, initializers = initial_values(settings["model"], threads)
    write_values(paths["initial"], initial)
    write_graph_facts(output, **initializers, compatibility=matched)
    references = {state: paths[state] for state in orderings.REFERENCES}
    checks = {}
    for state in settings["orderings"]:
        started = time.perf_counter()
        with tensorflow_warnings() as caught:
            values, checks[state], failed = run_ordering(state, settings["model"], prefix, threads)
        checks[state][object_ckpt.UNRESTORED_WARNING] = unrestored_warning(caught.buffer)
        if failed:
            logging.info("%s failed: %s", state, failed)
            write_failure(paths[state], [name for name, _ in values], failed)
        else:
            write_values(paths[state], tfgraph.by_source(values, references))
        logging.info("%s: %s; took %.3f s", state, checks[state], time.perf_counter() - started)
    write_text(Path(output) / ASSERTIONS_FILE, json.dumps(checks, sort_keys=True))


def list_checkpoint(reader, graph, paths, output):
    """A checkpoint without its model: its variables' values by key (`saved`; `initial` none)
    and a compatibility row per key."""
    keys = variable_keys(reader)
    write_values(paths["saved"], ((variable_name(k), reader.get_tensor(k)) for k in keys))
    write_values(paths["initial"], ((variable_name(k), orderings.UNINITIALIZED) for k in keys))
    rows = listed_rows(reader, graph)
    write_graph_facts(output, unseeded=[], random=[], constant=[], compatibility=rows)


def match_model(reader, prefix, graph, model, saved):
    """Build the model (eager), match its variables to the checkpoint's keys (by the walk of
    objects, or, for a TF1 checkpoint, `graph` None, by name), write each matched one's saved
    value to `saved`; returns the compatibility rows."""
    _, root = load_model(model)
    variables = model_variables(root)
    if graph is None:
        keys = reader.get_variable_to_shape_map()
        by_id = {i: key for i, key in keys_by_name(root, prefix).items() if key in keys}
        suffix = ""
    else:
        by_id = matched_keys(root, graph)
        suffix = VALUE_SUFFIX
    matched = {path: by_id[id(v)] for path, v in variables.items() if id(v) in by_id}
    write_values(saved, ((path, reader.get_tensor(key + suffix)) for path, key in matched.items()))
    return model_rows(reader, graph, variables, matched)


def initial_values(model, threads):
    """(path, value) of each of the model's variables as its initializers set them in a fresh
    graph and session, and what the initializers are: the variables (by path) whose
    initializer is `unseeded`, draws `random` numbers, or gives a `constant`."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads) as sess:
        variables = model_variables(load_model(model)[1])
        sess.run(tf.compat.v1.global_variables_initializer())
        values = list(tfgraph.readable_values(sess, reads(variables)))
        meta_graph = tf.compat.v1.train.export_meta_graph()
    paths = {variable.op.name: path for path, variable in variables.items()}
    kinds = {
        "unseeded": initializer_facts.unseeded(meta_graph),
        "random": initializer_facts.random_initializers(meta_graph),
        "constant": initializer_facts.constant_initializers(meta_graph),
    }
    return values, {
        kind: sorted(paths[n] for n in names if n in paths) for kind, names in kinds.items()
    }


def reads(variables):
    return {path: variable.value() for path, variable in variables.items()}


# What a restore raises into a model that does not fit the checkpoint: TensorFlow's errors, and
# a variable of another shape (eager).
RESTORE_ERRORS = (tf.errors.OpError, ValueError)


def run_ordering(state, model, prefix, threads):
    """One ordering on a model of its own, built by `model`: (values, the status checks, the
    error or None)."""
    how = orderings.ordering(state).run
    if isinstance(how, object_ckpt.InGraph):
        return in_graph(model, prefix, how.calls, threads)
    if isinstance(how, given_object_ckpt.EagerAttach):
        return restore_then_attach(model, prefix)
    if isinstance(how, object_ckpt.Eager) and not how.restore_first:
        return create_then_restore(model, prefix)
    raise TypeError(f"no load of a checkpoint into a model carries out {how!r}")


def in_graph(model, prefix, calls, threads):
    """Graph mode: the model built in a fresh graph, tf.train.Checkpoint's restore of
    `prefix`, then `calls` (`object_ckpt.InGraph`) in a session."""
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads) as sess:
        checkpoint, root = load_model(model)
        variables = model_variables(root)
        initialize = tf.compat.v1.global_variables_initializer()
        status = None
        try:
            status = checkpoint.restore(prefix)
            for call in calls:
                status_call(call, sess, status, initialize)
        except RESTORE_ERRORS as error:
            checks = assertion_results(status) if status else {}
            return unread(variables), checks, tfgraph.failure(error)
        values = list(tfgraph.readable_values(sess, reads(variables)))
        return values, assertion_results(status), None


def create_then_restore(model, prefix):
    """Eager: the model built (its variables created, so initialised), then restored."""
    checkpoint, root = load_model(model)
    variables = model_variables(root)
    try:
        status = checkpoint.restore(prefix)
    except RESTORE_ERRORS as error:
        return unread(variables), {}, tfgraph.failure(error)
    values = [(path, variable.numpy()) for path, variable in variables.items()]
    return values, assertion_results(status), None


def restore_then_attach(model, prefix):
    """Eager: tf.train.Checkpoint's restore of `prefix` into an empty Checkpoint, then the
    model built and each of its named objects attached to it, as code does that restores
    before it builds. Only a model given as a dict of trackables (the Checkpoint's names) can
    be attached so; one trackable is the Checkpoint's root."""
    empty = tf.train.Checkpoint()
    try:
        status = empty.restore(prefix)
    except RESTORE_ERRORS as error:
        return unread(model_variables(load_model(model)[1])), {}, tfgraph.failure(error)
    built = built_model(model)
    if not isinstance(built, dict):
        variables = model_variables(built)
        return unread(variables), {}, ATTACH_NEEDS_NAMES
    variables = model_variables(tf.train.Checkpoint(**built))
    try:
        for name, child in built.items():
            setattr(empty, name, child)
    except RESTORE_ERRORS as error:
        return unread(variables), assertion_results(status), tfgraph.failure(error)
    values = [(path, variable.numpy()) for path, variable in variables.items()]
    return values, assertion_results(status), None


# Why a model given as one trackable cannot be restored into before it exists.
ATTACH_NEEDS_NAMES = (
    "the model's function returns one trackable, the checkpoint's root: to restore before it"
    " exists, return a dict of the objects tf.train.Checkpoint was given, by name"
)


def unread(variables):
    return [(path, None) for path in variables]
