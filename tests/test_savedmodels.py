"""SavedModels and TF2 checkpoints as users' code writes them. The config names what they are.
The guard: what users' code writes passes (the restore function reads its `file_prefix`
argument, bound to the SavedModel's `saver_filename`), and crafted ones that hide a write or
another file's read in the functions a load runs are refused. Each crafted SavedModel is shown
to write its file when TensorFlow loads it unguarded."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tensorflow.core.protobuf import saved_model_pb2

from ckptorder import configuration, graph_guard, loading, tfgraph
from ckptorder.tfsession import saved_meta_graph, session, tf
from conftest import PROJECT
from crafted_graphs import call_node, const_node, depends_on, evil, function_def, name_attr_list
from savedmodels import KINDS

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each kind of SavedModel `savedmodels.py` writes, by kind."""
    folder = tmp_path_factory.mktemp("savedmodels")
    for kind in KINDS:
        subprocess.run(
            [sys.executable, TESTS / "savedmodels.py", kind, folder / kind],
            check=True,
            capture_output=True,
        )
    return {kind: folder / kind for kind in KINDS}


# An entry naming a SavedModel's files, and what the config check says of it.
ENTRIES = {
    "its folder": ({"prefix": ""}, "is a SavedModel's folder"),
    "its variables": (
        {"prefix": "variables/variables"},
        "is a TF2 object-based checkpoint (tf.train.Checkpoint)",
    ),
    "its graph": (
        {"prefix": "variables/variables", "graph": "saved_model.pb"},
        "saved_model.pb is a SavedModel's graph, not a Saver's .meta file",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_an_entry_naming_a_savedmodel_says_what_it_is_in_one_line(written, kind, entry):
    paths, words = ENTRIES[entry]
    config = yaml.safe_load((PROJECT / "config.yaml").read_text())
    named = {key: str(written[kind] / path) for key, path in paths.items()}
    config["checkpoints"].append({"name": "mine", **named})
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config)
    [line] = str(error.value).splitlines()
    assert line.startswith("config error: checkpoints[1].prefix: ") and words in line, line
    assert "an entry takes a TF1 Saver checkpoint" in line


def refusals(folder):
    """The guard's objections to what TF1's loader.load runs of the SavedModel in `folder`:
    its restore and its init op."""
    meta_graph = saved_meta_graph(folder)
    return graph_guard.refusals(meta_graph, loading.init_ops(meta_graph))


@pytest.mark.parametrize("kind", KINDS)
def test_a_savedmodel_users_code_writes_passes_the_guard(written, kind):
    assert refusals(written[kind]) == []


def restore_function(meta_graph):
    """The FunctionDef the SavedModel's restore op calls."""
    name = meta_graph.saver_def.restore_op_name
    call = next(node for node in meta_graph.graph_def.node if node.name == name)
    return next(
        f
        for f in meta_graph.graph_def.library.function
        if f.signature.name == call.attr["f"].func.name
    )


def restore_node(function):
    return next(node for node in function.node_def if node.op == "RestoreV2")


def write_in_the_restore_function(meta_graph, target):
    body = restore_function(meta_graph)
    write = tf.compat.v1.NodeDef(name="w", op="WriteFile", input=["c:output:0", "d:output:0"])
    body.node_def.extend([const_node("c", str(target)), const_node("d", "written"), write])
    restore_node(body).input.append("^w")


def print_to_a_file_in_the_restore_function(meta_graph, target):
    body = restore_function(meta_graph)
    text = tf.compat.v1.NodeDef(name="text", op="StringFormat")
    text.attr["T"].list.SetInParent()
    text.attr["template"].s = b"written"
    printed = tf.compat.v1.NodeDef(name="p", op="PrintV2", input=["text:output:0"])
    printed.attr["output_stream"].s = f"file://{target}".encode()
    printed.attr["end"].s = b"\n"
    body.node_def.extend([text, printed])
    restore_node(body).input.append("^p")


def restore_of_another_file_in_the_restore_function(meta_graph, target):
    body = restore_function(meta_graph)
    body.node_def.append(const_node("elsewhere", str(target)))
    restore_node(body).input[0] = "elsewhere:output:0"


def restore_function_called_with_another_prefix(meta_graph, target):
    meta_graph.graph_def.node.append(const_node("elsewhere", str(target)))
    name = meta_graph.saver_def.restore_op_name
    call = next(node for node in meta_graph.graph_def.node if node.name == name)
    call.input[0] = "elsewhere"


def restore_function_called_again_with_another_prefix(meta_graph, target):
    meta_graph.graph_def.node.append(const_node("elsewhere", str(target)))
    name = meta_graph.saver_def.restore_op_name
    again = tf.compat.v1.NodeDef()
    again.CopyFrom(next(node for node in meta_graph.graph_def.node if node.name == name))
    again.name = "again"
    again.input[0] = "elsewhere"
    depends_on(meta_graph, name, again)


def write_two_functions_deep_in_the_init_op(meta_graph, target):
    library = meta_graph.graph_def.library.function
    library.extend([evil(target)])
    library.append(
        function_def("Outer", [call_node("call", name_attr_list("Evil"))], "call:output:0")
    )
    [init_op] = loading.init_ops(meta_graph)
    depends_on(meta_graph, graph_guard.node_name(init_op), call_node("p", name_attr_list("Outer")))


# Each crafted edit of the `module` SavedModel, the op the guard names, and whether TensorFlow,
# unguarded, writes the target (a restore of another file reads it instead).
CRAFTED = {
    "a write in the restore function": (write_in_the_restore_function, "WriteFile", True),
    "a print to a file in the restore function": (
        print_to_a_file_in_the_restore_function,
        "PrintV2",
        True,
    ),
    "a restore of another file in the restore function": (
        restore_of_another_file_in_the_restore_function,
        "RestoreV2 reads a checkpoint other",
        False,
    ),
    "the restore function called with another prefix": (
        restore_function_called_with_another_prefix,
        "RestoreV2 reads a checkpoint other",
        False,
    ),
    "the restore function called again with another prefix": (
        restore_function_called_again_with_another_prefix,
        "RestoreV2 reads a checkpoint other",
        False,
    ),
    "a write two functions deep in the init op": (
        write_two_functions_deep_in_the_init_op,
        "WriteFile",
        True,
    ),
}


def crafted(written, directory, edit):
    """A copy of the `module` SavedModel in `directory` as `edit` changes its meta graph;
    returns the file the edit writes (or restores from)."""
    folder = directory / "savedmodel"
    shutil.copytree(written["module"], folder)
    target = directory / "written.txt"
    path = folder / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(path.read_bytes())
    edit(saved_model.meta_graphs[0], target)
    path.write_bytes(saved_model.SerializeToString())
    return folder, target


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_savedmodel_is_refused(written, tmp_path, case):
    edit, named, _ = CRAFTED[case]
    folder, target = crafted(written, tmp_path, edit)
    found = refusals(folder)
    assert found and named in found[0], found
    assert not target.exists()


@pytest.mark.parametrize("case", [case for case, (_, _, writes) in CRAFTED.items() if writes])
def test_a_crafted_savedmodel_writes_its_file_when_loaded_unguarded(written, tmp_path, case):
    folder, target = crafted(written, tmp_path, CRAFTED[case][0])
    graph = tf.Graph()
    with graph.as_default(), session(graph, threads=1) as sess:
        tf.compat.v1.saved_model.loader.load(sess, tfgraph.SERVE, str(folder))
    assert target.exists()
