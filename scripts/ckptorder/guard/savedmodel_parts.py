"""What a SavedModel adds to a graph that the guard checks: the functions its object graph makes
tf.saved_model.load run, its signatures, its assets, and what importing it evaluates."""

from pathlib import Path
from typing import NamedTuple

from ckptorder.guard.graph_program import GRAPH, Program, is_leaf, node_name, path, reads
from ckptorder.guard.op_table import DANGERS, READS_AN_ASSET, evaluable_on_import
from ckptorder.tfsession import asset_file_defs, op_def


def import_refusals(meta_graph):
    """A line per op, anywhere in the graph or its function library, that importing it may run
    (a stateless op) and that is not one that computes in memory alone
    (`evaluable_on_import`): a SavedModel's loaders import all of it, reached or not
    (loader.load its graph, tf.saved_model.load every function)."""
    program = Program(meta_graph.graph_def)
    nodes = list(program.nodes)
    for function in program.functions:
        nodes += list(program.body(function))
    allowed = evaluable_on_import()
    return [
        f"{path({key: None}, key)}: {op} {DANGERS.get(op, 'is not an op that only computes')};"
        " importing the SavedModel may run it, reached or not"
        for key in nodes
        if (op := program.node(key).op) not in allowed
        and op_def(op) is not None
        and not op_def(op).is_stateful
    ]


def asset_refusals(meta_graph, folder, budget):
    """A line per asset of the SavedModel in `folder` that is not a file of its own: its
    loaders read `assets/FILENAME`, which must be a regular file in that folder (no absolute
    path, no `..` and no link out of it), of at most the `budget`'s total bytes."""
    assets = (Path(folder) / "assets").resolve()
    found = []
    for asset in asset_file_defs(meta_graph):
        path = (assets / asset.filename).resolve()
        if not path.is_relative_to(assets) or not path.is_file():
            found.append(
                f"asset {asset.filename!r}: not a file in the SavedModel's assets folder"
                f" ({DANGERS[READS_AN_ASSET]})"
            )
        elif path.stat().st_size > budget.total:
            found.append(
                f"asset {asset.filename!r}: {path.stat().st_size} bytes, over the budget of"
                f" {budget.total} (graph_sizes.budget)"
            )
    return found


class Assets(NamedTuple):
    """Where a SavedModel's loaders put the paths of its assets (its own files, in its
    `assets` folder): `nodes`, the graph nodes that hold one, which TF1's loader.load feeds
    (and a TF2 SavedModel's reads of the variable it assigns one to); `arguments`, function to
    the positions of its arguments that tf.saved_model.load binds to an asset."""

    nodes: frozenset
    arguments: dict


NO_ASSETS = Assets(frozenset(), {})


def savedmodel_assets(meta_graph):
    """The `Assets` of a SavedModel's meta graph (`asset_file_defs`, its object graph's
    functions' captured assets); a fed node counts only where it is a leaf, and a variable
    only where the graph does nothing with it but assign it a fed path and read it."""
    program = Program(meta_graph.graph_def)
    fed = {node_name(asset.tensor_info.name) for asset in asset_file_defs(meta_graph)}
    fed = {
        name for name in fed if (GRAPH, name) in program.nodes and is_leaf(program, (GRAPH, name))
    }
    holders, spoilt = set(), set()
    for node in program.nodes.values():
        for position, source in enumerate(node.input):
            held = node_name(source)
            if node.op == "AssignVariableOp" and position == 0 and reads(node, 1) in fed:
                holders.add(held)
            elif node.op not in ("ReadVariableOp", "VarIsInitializedOp") or position != 0:
                spoilt.add(held)
    reads_held = {
        name
        for (_, name), node in program.nodes.items()
        if node.op == "ReadVariableOp" and reads(node) in holders - spoilt
    }
    return Assets(frozenset(fed | reads_held), captured_assets(meta_graph, program))


def captured_assets(meta_graph, program):
    """Each function the object graph has a concrete function of (tf.saved_model.load may run
    it), to the positions of its arguments that the object graph binds to an asset
    (captured inputs are a function's last arguments)."""
    objects = meta_graph.object_graph_def
    found = {}
    for name, concrete in objects.concrete_functions.items():
        if name not in program.functions:
            continue
        bound = list(concrete.bound_inputs)
        first = len(program.functions[name].signature.input_arg) - len(bound)
        positions = {
            first + i
            for i, node_id in enumerate(bound)
            if 0 <= node_id < len(objects.nodes)
            and objects.nodes[node_id].WhichOneof("kind") == "asset"
        }
        found[name] = positions if first >= 0 else set()
    return found


# A resource's functions tf.saved_model.load runs: it makes, initialises and deletes it.
RESOURCE_FUNCTIONS = ("_create_resource", "_initialize", "_destroy_resource")


def object_graph_functions(meta_graph):
    """What tf.saved_model.load runs of a TF2 SavedModel's object graph, besides the graph's
    restore and init op, by concrete function: each resource's RESOURCE_FUNCTIONS and each
    saveable object's save and restore functions."""
    objects = meta_graph.object_graph_def
    names = []
    for node in objects.nodes:
        ids = []
        if node.WhichOneof("kind") == "resource":
            ids += [c.node_id for c in node.children if c.local_name in RESOURCE_FUNCTIONS]
        for saveable in node.saveable_objects.values():
            ids += [saveable.save_function, saveable.restore_function]
        names += [name for i in ids for name in concrete_functions(objects, i)]
    return list(dict.fromkeys(names))


def object_graph_names(meta_graph):
    """Every function a SavedModel's object graph names (tf.saved_model.load loads each)."""
    objects = meta_graph.object_graph_def
    names = list(objects.concrete_functions)
    for node_id in range(len(objects.nodes)):
        names += concrete_functions(objects, node_id)
    return names


def signature_functions(meta_graph):
    """The concrete functions of each signature as tf.saved_model.load gives it: the children
    of its root's `signatures` object; {} for a SavedModel without an object graph (TF1's)."""
    objects = meta_graph.object_graph_def
    if not objects.nodes:
        return {}
    found = {}
    for child in objects.nodes[0].children:
        if child.local_name == "signatures" and 0 <= child.node_id < len(objects.nodes):
            for signature in objects.nodes[child.node_id].children:
                found[signature.local_name] = concrete_functions(objects, signature.node_id)
    return found


def concrete_functions(objects, node_id):
    """The concrete functions node `node_id` of the object graph is: a function's traces, or
    a bare concrete function."""
    if not 0 <= node_id < len(objects.nodes):
        return []
    node = objects.nodes[node_id]
    if node.WhichOneof("kind") == "function":
        return list(node.function.concrete_functions)
    if node.WhichOneof("kind") == "bare_concrete_function":
        return [node.bare_concrete_function.concrete_function_name]
    return []


def init_ops(meta_graph):
    """The init op a SavedModel's loader runs after its restore, where it has one."""
    signature = meta_graph.signature_def.get("__saved_model_init_op")
    if signature is not None:
        return [signature.outputs["__saved_model_init_op"].name]
    return [
        name
        for key in ("saved_model_main_op", "legacy_init_op")
        if key in meta_graph.collection_def
        for name in meta_graph.collection_def[key].node_list.value
    ]
