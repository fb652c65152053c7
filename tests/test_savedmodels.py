"""SavedModels as users' code writes them. The config names what they are;
load_savedmodel.py loads a SavedModel's folder each way that applies, and what each load
leaves is TensorFlow's, read from the run. The guard: what users' code writes passes (the
restore function reads its `file_prefix` argument, bound to the SavedModel's
`saver_filename`), and crafted ones that hide a write or another file's read in the functions
a load runs are refused. Each crafted SavedModel is shown to write its file when TensorFlow
loads it unguarded."""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.saved_model import nested_structure_coder

import report
from ckptorder import (
    checkpoint_files,
    configuration,
    given_savedmodels,
    object_paths,
    orderings,
    sandbox,
    signatures,
    tfgraph,
)
from ckptorder.formats import given_savedmodel
from ckptorder.guard import graph_program, graph_sizes, op_table, savedmodel_parts
from ckptorder.step_settings import SavedModelSettings, savedmodel_step_settings
from ckptorder.tfsession import saved_meta_graph, session, tf
from ckptorder.values import GRAPH_FACTS, INFERENCE, Values, state_paths
from conftest import PROJECT, config_with, run_script, write_kinds
from crafted_graphs import call_node, const_node, depends_on, evil, function_def, name_attr_list
from savedmodels import KINDS, SIGNATURE_RUNS, signature_outcome

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each kind of SavedModel `savedmodels.py` writes, by kind."""
    folder = tmp_path_factory.mktemp("savedmodels")
    targets = {kind: folder / kind for kind in KINDS}
    write_kinds(TESTS / "savedmodels.py", targets)
    return targets


# An entry naming a SavedModel's files, and what the config check says of it.
ENTRIES = {
    "its variables": ({"prefix": "variables/variables"}, "is a SavedModel's variables: give"),
    "its variables with its graph": (
        {"prefix": "variables/variables", "graph": "saved_model.pb"},
        "is a SavedModel's variables: give",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_an_entry_naming_a_savedmodel_says_what_it_is_in_one_line(written, kind, entry):
    paths, words = ENTRIES[entry]
    named = {key: str(written[kind] / path) for key, path in paths.items()}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with({"name": "mine", **named}))
    [line] = str(error.value).splitlines()
    assert line.startswith("config error: checkpoints[1].prefix: ") and words in line, line
    assert "an entry takes a TF1 Saver checkpoint" in line


def test_a_savedmodels_graph_is_not_a_meta_file(written, tmp_path):
    graph = written["module"] / "saved_model.pb"
    entry = {"name": "mine", "prefix": str(tmp_path / "model.ckpt"), "graph": str(graph)}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with(entry))
    assert "saved_model.pb is a SavedModel's graph, not a Saver's .meta file" in str(error.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_savedmodels_folder_is_an_entry_loaded_each_way_its_kind_allows(written, kind):
    checked = configuration.checked(config_with({"name": "mine", "prefix": str(written[kind])}))
    [entry] = [c for c in checked["checkpoints"] if c["name"] == "mine"]
    variant = "tf1" if kind.startswith("tf1") else "tf2"
    assert entry["format"] == "savedmodel" and not entry["built"]
    assert entry["orderings"] == [
        o for o in orderings.GIVEN_SAVEDMODEL.orderings if o.startswith(f"{variant}.")
    ]


def test_a_savedmodel_entry_is_given_no_setting_of_a_checkpoints(written):
    entry = {
        "name": "mine",
        "prefix": str(written["module"]),
        "probes": [{"tensor": "w", "slice": "[0]"}],
    }
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with(entry))
    assert str(error.value) == (
        "config error: checkpoints[1].probes: not for a SavedModel's folder, which is loaded every"
        " way that applies; give name, prefix, trust, expected and tags"
    )


def test_tags_are_a_savedmodel_entrys_alone(written, built):
    savedmodel = {"name": "mine", "prefix": str(written["module"]), "tags": ["serve"]}
    [checked] = [
        c
        for c in configuration.checked(config_with(savedmodel))["checkpoints"]
        if c["name"] == "mine"
    ]
    assert json.loads(savedmodel_step_settings(checked))["tags"] == ["serve"]
    tf1 = {"name": "mine", "prefix": str(built / "ckpt" / "model.ckpt"), "tags": ["serve"]}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with(tf1))
    assert "checkpoints[1].tags: not for a TF1 checkpoint restored into its .meta graph;" in str(
        error.value
    )


def test_a_savedmodel_entry_judged_names_only_its_own_orderings(written):
    entry = {"name": "mine", "prefix": str(written["module"]), "expected": {}}
    [checked] = [
        c for c in configuration.checked(config_with(entry))["checkpoints"] if c["name"] == "mine"
    ]
    assert checked["expected"] == {}
    entry["expected"] = {"tf1.loader_load": "restored"}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with(entry))
    assert "checkpoints[1].expected.tf1.loader_load: not an ordering checkpoint mine runs" in str(
        error.value
    )


def test_a_savedmodel_without_variables_is_one_line(written, tmp_path):
    folder = tmp_path / "bare"
    folder.mkdir()
    shutil.copy(written["module"] / checkpoint_files.SAVED_MODEL_FILE, folder)
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with({"name": "bare", "prefix": str(folder)}))
    assert "is a SavedModel without variables" in str(error.value)


# What each load leaves of each kind's variables, as load_savedmodel.py records it: where its
# value came from (the SavedModel's, the initializers', neither, none).
TF2 = {
    "loader_load": "saved",
    "loader_load_then_init": "saved",
    # In graph mode a TF2 SavedModel's restore is its variables' initializer: it asks for no
    # saved_model_initializers, and global_variables_initializer() restores.
    "load_v2_restore": "uninitialized",
    "load_v2_global_init": "saved",
    "load_v2_eager": "saved",
}
# A TF1 SavedModel in graph mode: the opposite of a TF2 one.
TF1 = {
    "loader_load": "saved",
    "loader_load_then_init": "initial",
    "load_v2_restore": "saved",
    "load_v2_global_init": "uninitialized",
    "load_v2_eager": "saved",
}
LEFT = {
    "module": TF2,
    "with_optimizer": TF2,
    "keras_export": TF2,
    "keras2_legacy_optimizer": TF2,
    "keras_lookup": TF2,
    "keras_vocabulary_file": TF2,
    "tf1_vocabulary_file": TF1,
    # The trained kernel; its bias is zeros, saved and initial alike.
    "tf1_builder": TF1,
    # A resource variable is lifted out of the loaded function with the SavedModel's restore
    # as its initializer, as a TF2 SavedModel's are.
    "tf1_resource_variables": {**TF1, "load_v2_global_init": "saved"},
    # main_op() runs the initializers after the restore, in either loader; the initializers
    # run again after them draw the seeded kernel anew (a value of its own).
    "tf1_main_op": {
        "loader_load": "initial",
        "loader_load_then_init": "own",
        "load_v2_restore": "saved",
        "load_v2_global_init": "uninitialized",
        "load_v2_eager": "initial",
    },
}


def settings_of(states, trust=False, tags=None):
    """load_savedmodel's --settings for the loads `states`."""
    return SavedModelSettings(checkpoint="mine", orderings=states, trust=trust, tags=tags).dump()


def load_savedmodel(folder, output, trust=False, tags=None):
    kind = checkpoint_files.savedmodel_kind(folder)
    states = given_savedmodel.kind_orderings(kind)
    loaded = run_script(
        "load_savedmodel",
        settings=settings_of(states, trust, tags),
        savedmodel=folder,
        output=output,
    )
    assert loaded.returncode == 0, loaded.stderr
    return states


@pytest.fixture(scope="module")
def loaded(written, tmp_path_factory):
    """load_savedmodel's folder of each kind's every load, guarded, by kind, with the loads:
    two kinds at a time (a TensorFlow start each)."""
    folder = tmp_path_factory.mktemp("loaded")
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        states = pool.map(lambda kind: load_savedmodel(written[kind], folder / kind), KINDS)
        return {kind: (folder / kind, loads) for kind, loads in zip(KINDS, states, strict=True)}


def verdicts(values, states):
    """The report's variable table of the loads whose values are in `values`, judged: each
    variable's outcome and the one its load's steps predict (`expected`, `as_expected`)."""
    facts = json.loads((values / GRAPH_FACTS).read_text())
    paths = state_paths(values, orderings.states(states))
    with Values(paths["saved"]) as saved:
        held = set(saved.names)
    table = report.variable_table(paths, states, facts)
    checkpoint = {"format": "savedmodel", "expected": {}, "partial_variables": []}
    return report.add_verdict(table, checkpoint, facts, held)


@pytest.mark.parametrize("kind", KINDS)
def test_each_load_of_a_savedmodel_leaves_what_tensorflow_does_as_its_steps_predict(loaded, kind):
    values, states = loaded[kind]
    with Values(values / "saved.npz") as saved:
        names = saved.names
    kernels = [name for name in names if "kernel" in name] or names
    for state in states:
        with Values(values / f"{state}.npz") as held:
            left = {held.source(name) for name in kernels}
        assert left == {LEFT[kind][state.split(".")[1]]}, (state, left)
    judged = verdicts(values, states)
    assert judged["expected"].ne("").all() and judged["as_expected"].all()


def init_op_initializes(folder):
    meta_graph = saved_meta_graph(folder)
    reader = tf.train.load_checkpoint(given_savedmodels.variables_prefix(folder))
    keys = object_paths.variable_keys(reader)
    names = {key: object_paths.variable_name(key) for key in keys}
    mapping = given_savedmodels.restored_variables(meta_graph)
    return given_savedmodels.init_op_initializes(meta_graph, mapping, names)


# The variables each kind's init op initialises: main_op()'s, all; TF2's, none.
INITIALIZED_BY_INIT_OP = {kind: [] for kind in KINDS} | {
    "tf1_main_op": ["dense/bias", "dense/kernel"]
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_variables_an_init_op_initializes_are_read_off_its_graph(written, kind):
    assert init_op_initializes(written[kind]) == INITIALIZED_BY_INIT_OP[kind]


def restore_in_the_init_op(meta_graph, _target):
    """main_op_with_restore's init op: the initializers, then the Saver's restore op, which
    reads the Saver's default file rather than the SavedModel's variables."""
    (init,) = savedmodel_parts.init_ops(meta_graph)
    node = next(n for n in meta_graph.graph_def.node if n.name == graph_program.node_name(init))
    node.input.append(f"^{meta_graph.saver_def.restore_op_name}")


def test_an_init_op_that_writes_variables_otherwise_leaves_its_loads_unjudged(written, tmp_path):
    folder, _ = crafted(written, tmp_path, restore_in_the_init_op, "tf1_main_op")
    assert init_op_initializes(folder) is None
    states = load_savedmodel(folder, tmp_path / "values", trust=True)
    judged = verdicts(tmp_path / "values", states)
    runs_init_op = judged["ordering"].map(orderings.runs_init_op)
    assert set(judged.loc[runs_init_op, "expected"]) == {""}
    assert judged.loc[~runs_init_op, "as_expected"].all()
    assert set(judged.loc[runs_init_op, "outcome"]) == {"failed"}


def test_a_keras_2_savedmodel_loads_without_keras_2_where_tensorflow_can(written, tmp_path):
    """The issue's published SavedModel: tf.saved_model.load refuses a Keras 2 optimizer
    without Keras 2 (a user with Keras 3 alone); those loads fail in TensorFlow's words, the
    others restore every variable, and the job ends well."""
    hidden = tmp_path / "without_tf_keras"
    hidden.mkdir()
    (hidden / "sitecustomize.py").write_text('import sys\nsys.modules["tf_keras"] = None\n')
    folder = written["keras2_legacy_optimizer"]
    states = given_savedmodel.kind_orderings("tf2")
    command = [sys.executable, PROJECT / "scripts" / "load_savedmodel.py"]
    command += ["--settings", settings_of(states), "--savedmodel", folder]
    command += ["--output", tmp_path / "values"]
    without = {**os.environ, "PYTHONPATH": str(hidden)}
    loaded = subprocess.run(command, env=without, capture_output=True, text=True, check=False)
    assert loaded.returncode == 0, loaded.stderr
    refused = (
        "ImportError: Error when importing Keras. Unable to load SavedModel that contains an"
        " optimizer without the Keras module."
    )
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            if ".load_v2_" in state:
                assert held.failed == refused, state
            else:
                assert {held.source(name) for name in held.names} == {"saved"}, state


def refusals(folder):
    """The guard's objections to the SavedModel in `folder`, as load_savedmodel.py checks it
    before any load."""
    prefix = given_savedmodels.variables_prefix(folder)
    budget = graph_sizes.budget(tfgraph.checkpoint_keys(prefix))
    return given_savedmodels.guard_refusals(folder, saved_meta_graph(folder), budget)


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
    [init_op] = savedmodel_parts.init_ops(meta_graph)
    outer = call_node("p", name_attr_list("Outer"))
    depends_on(meta_graph, graph_program.node_name(init_op), outer)


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


def crafted(written, directory, edit, kind="module"):
    """A copy of the `kind` SavedModel in `directory` as `edit` changes its meta graph;
    returns the file the edit writes (or restores from)."""
    folder = directory / "savedmodel"
    shutil.copytree(written[kind], folder)
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


def write_in_an_initializer(meta_graph, target):
    """A TF1 SavedModel's: the kernel's initializer writes `target` first (its initial values
    are read by running the initializers, before any load)."""
    write = tf.compat.v1.NodeDef(name="w", op="WriteFile", input=["c", "d"])
    meta_graph.graph_def.node.extend([const_node("c", str(target)), const_node("d", "x")])
    depends_on(meta_graph, "dense/kernel/Assign", write)


@pytest.mark.parametrize(
    ("kind", "edit"),
    [("module", write_in_the_restore_function), ("tf1_builder", write_in_an_initializer)],
)
def test_a_savedmodel_the_guard_refuses_fails_every_load_and_writes_nothing(
    written, tmp_path, kind, edit
):
    folder, target = crafted(written, tmp_path, edit, kind)
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed.startswith("refused by the guard: ") and "WriteFile" in held.failed
    assert not target.exists()


def signature_runs(folder):
    """Each state's signature outputs as inference.json holds them (`signature_outcome`)."""
    checks = json.loads((folder / INFERENCE).read_text())
    return {
        (state, output): signature_outcome(check["error"], check["bit_equal"])
        for state, outputs in checks.items()
        for output, check in outputs.items()
    }


@pytest.mark.parametrize("kind", KINDS)
def test_each_load_runs_the_serving_signatures_guarded(loaded, kind):
    """Every serving signature runs after every load, on a batch made from its specs, past
    the guard; its output is the first fully restored load's, bit for bit, wherever the load
    restored every variable."""
    values, states = loaded[kind]
    runs = signature_runs(values)
    outputs = {output for _, output in runs}
    assert outputs == (
        {"serve/output_0", "serving_default/output_0"}
        if kind.startswith("keras_")
        else {f"serving_default/{'out' if kind.startswith('keras2') else 'y'}"}
    )
    for state in states:
        expected = SIGNATURE_RUNS[kind][state.split(".")[1]]
        assert {runs[(state, output)] for output in outputs} == {expected}, state


def signature_function(meta_graph, depth):
    """The FunctionDef the serving signature's output runs at `depth` calls (1: the one the
    graph calls)."""
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    output = meta_graph.signature_def["serving_default"].outputs["y"].name
    node = next(n for n in meta_graph.graph_def.node if n.name == graph_program.node_name(output))
    for _ in range(depth):
        function = functions[node.attr["f"].func.name]
        node = next((n for n in function.node_def if n.op == "StatefulPartitionedCall"), node)
    return function


def returned_node(function):
    name = graph_program.node_name(next(iter(function.ret.values())))
    return next(node for node in function.node_def if node.name == name)


def write_in_the_signature(meta_graph, target):
    """A write two functions deep in what the serving signature runs."""
    body = signature_function(meta_graph, depth=2)
    write = tf.compat.v1.NodeDef(name="w", op="WriteFile", input=["c:output:0", "d:output:0"])
    body.node_def.extend([const_node("c", str(target)), const_node("d", "written"), write])
    returned_node(body).input.append("^w")


def huge_fill_in_the_signature(meta_graph, _):
    """A 4 GiB tensor, made in the function the serving signature calls."""
    body = signature_function(meta_graph, depth=1)
    fill = tf.compat.v1.NodeDef(name="f", op="Fill", input=["dims:output:0", "one:output:0"])
    fill.attr["T"].type = tf.float32.as_datatype_enum
    body.node_def.extend([const_node("dims", [2**15, 2**15]), const_node("one", 1.0), fill])
    returned_node(body).input.append("^f")


def huge_input_spec(meta_graph, _):
    """An input spec whose batch alone would take 40 GB."""
    spec = meta_graph.signature_def["serving_default"].inputs["x"].tensor_shape
    del spec.dim[:]
    spec.dim.add(size=100_000)
    spec.dim.add(size=100_000)


# Each crafted edit of the `module` SavedModel's serving signature, and what its rows say.
CRAFTED_SIGNATURES = {
    "a write two functions deep": (write_in_the_signature, "WriteFile writes files"),
    "a 4 GiB fill": (huge_fill_in_the_signature, "Fill of 4,294,967,296 bytes, over the budget"),
    "an input spec of 40 GB": (huge_input_spec, "input x of shape [100000, 100000] takes"),
}


@pytest.mark.parametrize("case", CRAFTED_SIGNATURES)
def test_a_crafted_signature_is_refused_and_the_loads_stand(written, tmp_path, case):
    edit, words = CRAFTED_SIGNATURES[case]
    folder, target = crafted(written, tmp_path, edit)
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert not held.failed, state
    checks = json.loads((tmp_path / "values" / INFERENCE).read_text())
    errors = {
        state: check["error"] for state, outputs in checks.items() for check in outputs.values()
    }
    # Where the load left the variables uninitialized, only sizes that need them are not
    # checked, and the signature does not run.
    for state, error in errors.items():
        if SIGNATURE_RUNS["module"][state.split(".")[1]] == "uninitialized" and words.startswith(
            "Fill"
        ):
            assert error == signatures.UNINITIALIZED_READ, state
        else:
            assert words in error, (state, error)
    assert not target.exists()


def test_a_crafted_signature_trusted_runs_and_the_sandbox_stops_its_write(written, tmp_path):
    """Trusted, the signature runs as it is, and its write is refused by the kernel; plain
    TensorFlow, outside the sandbox, writes the file."""
    folder, target = crafted(written, tmp_path, write_in_the_signature)
    load_savedmodel(folder, tmp_path / "values", trust=True)
    assert not target.exists()
    checks = json.loads((tmp_path / "values" / INFERENCE).read_text())
    error = checks["tf2.load_v2_eager"]["serving_default/y"]["error"]
    assert error.startswith("PermissionDeniedError: "), error
    code = (
        "import sys, tensorflow as tf\n"
        "tf.saved_model.load(sys.argv[1]).signatures['serving_default'](x=tf.ones([1, 3]))\n"
    )
    subprocess.run([sys.executable, "-c", code, folder], capture_output=True, check=False)
    assert target.exists()


def object_graph_signature(meta_graph, name="serving_default"):
    """The object graph's node of signature `name`: what tf.saved_model.load's signatures run."""
    nodes = meta_graph.object_graph_def.nodes
    signatures_node = nodes[
        next(c.node_id for c in nodes[0].children if c.local_name == "signatures")
    ]
    return nodes[next(c.node_id for c in signatures_node.children if c.local_name == name)]


def signature_copy_that_writes(meta_graph, target):
    """The object graph's serving signature (what tf.saved_model.load runs) pointed at a copy
    of the graph's signature function that writes `target` first; the graph's own signature
    (what loader.load runs) left honest."""
    node = object_graph_signature(meta_graph)
    name = node.bare_concrete_function.concrete_function_name
    library = meta_graph.graph_def.library.function
    copy = library.add()
    copy.CopyFrom(next(f for f in library if f.signature.name == name))
    copy.signature.name = f"{name}_copy"
    write = tf.compat.v1.NodeDef(name="w", op="WriteFile", input=["c:output:0", "d:output:0"])
    copy.node_def.extend([const_node("c", str(target)), const_node("d", "written"), write])
    returned_node(copy).input.append("^w")
    functions = meta_graph.object_graph_def.concrete_functions
    functions[copy.signature.name].CopyFrom(functions[name])
    node.bare_concrete_function.concrete_function_name = copy.signature.name


def resource_that_writes(meta_graph, target):
    """A resource of the object graph whose creator, initializer and destructor, which
    tf.saved_model.load runs, write `target`."""
    meta_graph.graph_def.library.function.append(evil(target))
    graph = meta_graph.object_graph_def
    graph.concrete_functions["Evil"].canonicalized_input_signature.CopyFrom(
        nested_structure_coder.encode_structure(((), {}))
    )
    graph.concrete_functions["Evil"].output_signature.CopyFrom(
        nested_structure_coder.encode_structure(tf.TensorSpec([], tf.float32))
    )
    function = graph.nodes.add()
    function.bare_concrete_function.concrete_function_name = "Evil"
    resource = graph.nodes.add()
    resource.resource.device = ""
    for name in ("_create_resource", "_initialize", "_destroy_resource"):
        resource.children.add(local_name=name, node_id=len(graph.nodes) - 2)
    graph.nodes[0].children.add(local_name="evil", node_id=len(graph.nodes) - 1)


# Each crafted edit of the `module` SavedModel's object graph, which tf.saved_model.load
# follows and TF1's loader.load does not.
CRAFTED_OBJECTS = {
    "the signature tf.saved_model.load runs": signature_copy_that_writes,
    "a resource's functions": resource_that_writes,
}


@pytest.mark.parametrize("case", CRAFTED_OBJECTS)
def test_what_tf_saved_model_load_runs_of_the_object_graph_is_guarded(written, tmp_path, case):
    folder, target = crafted(written, tmp_path / "guarded", CRAFTED_OBJECTS[case])
    states = load_savedmodel(folder, tmp_path / "values")
    assert not target.exists()
    refused = {}
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            refused[state] = bool(held.failed) and held.failed.startswith("refused by the guard")
    checks = json.loads((tmp_path / "values" / INFERENCE).read_text())
    errors = {
        state: check["error"] for state, outputs in checks.items() for check in outputs.values()
    }
    if case == "a resource's functions":
        assert all(refused.values()), refused
    else:
        assert not any(refused.values()), refused
        for state, error in errors.items():
            if ".load_v2_" in state and SIGNATURE_RUNS["module"][state.split(".")[1]] == "equal":
                assert "WriteFile writes files" in error, (state, error)


@pytest.mark.parametrize("case", CRAFTED_OBJECTS)
def test_what_the_object_graph_hides_is_run_by_tf_saved_model_load_unguarded(
    written, tmp_path, case
):
    folder, target = crafted(written, tmp_path, CRAFTED_OBJECTS[case])
    code = (
        "import sys, tensorflow as tf\n"
        "loaded = tf.saved_model.load(sys.argv[1])\n"
        "loaded.signatures['serving_default'](x=tf.ones([1, 3]))\n"
    )
    subprocess.run([sys.executable, "-c", code, folder], capture_output=True, check=False)
    assert target.exists()


def shape_read_from(target, separator):
    """Nodes that reshape 3 numbers to the shape the file `target` holds: importing them reads
    it (TensorFlow's shape inference evaluates the ReadFile). `separator`: how a node's first
    output is named (`` in a graph, `:output:0` in a function)."""

    def node(name, op, inputs, **types):
        made = tf.compat.v1.NodeDef(name=name, op=op, input=[i + separator for i in inputs])
        for attr, dtype in types.items():
            made.attr[attr].type = dtype.as_datatype_enum
        return made

    contents = "rf:contents:0" if separator else "rf"
    number = node("number", "StringToNumber", [], out_type=tf.int32)
    number.input.append(contents)
    return [
        const_node("name", str(target)),
        node("rf", "ReadFile", ["name"]),
        number,
        const_node("axis", 0),
        node("shape", "ExpandDims", ["number", "axis"], T=tf.int32, Tdim=tf.int32),
        const_node("numbers", [1.0, 2.0, 3.0]),
        node("r", "Reshape", ["numbers", "shape"], T=tf.float32, Tshape=tf.int32),
    ]


def read_in_the_graph(meta_graph, target):
    """A read no load reaches, in the graph: loader.load imports it all."""
    meta_graph.graph_def.node.extend(shape_read_from(target, ""))


def read_in_a_library_function(meta_graph, target):
    """A read in a function nothing calls: tf.saved_model.load imports every function."""
    function = meta_graph.graph_def.library.function.add()
    function.signature.name = "Unreached"
    function.signature.output_arg.add(name="out", type=tf.float32.as_datatype_enum)
    function.node_def.extend(shape_read_from(target, ":output:0"))
    function.ret["out"] = "r:output:0"


# Each crafted read, and the load whose import runs it unguarded.
CRAFTED_READS = {
    "in the graph": (read_in_the_graph, "loader.load"),
    "in a function nothing calls": (read_in_a_library_function, "tf.saved_model.load"),
}
IMPORTS = {
    "loader.load": "with tf.compat.v1.Session() as s:\n"
    "    tf.compat.v1.saved_model.loader.load(s, ['serve'], sys.argv[1])\n",
    "tf.saved_model.load": "tf.saved_model.load(sys.argv[1])\n",
}


def test_a_file_read_that_importing_would_run_is_refused_before_any_load(written, tmp_path):
    folder, target = crafted(written, tmp_path, read_in_the_graph)
    target.write_text("5")
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed.startswith("refused by the guard: "), state
            assert "ReadFile reads files; importing the SavedModel may run it" in held.failed


def test_a_function_nothing_names_is_not_handed_to_the_loads(written, tmp_path):
    """Its read would fail the import (5 numbers wanted, 3 given: the file says 5) were it
    imported: the loads import the checked meta graph without it, and every load passes."""
    folder, target = crafted(written, tmp_path, read_in_a_library_function)
    target.write_text("5")
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed is None, (state, held.failed)


@pytest.mark.parametrize("case", CRAFTED_READS)
def test_importing_a_savedmodel_reads_what_no_load_reaches_unguarded(written, tmp_path, case):
    """The file decides whether the import succeeds: 3 numbers reshape to [3], not to [5]."""
    edit, load = CRAFTED_READS[case]
    folder, target = crafted(written, tmp_path, edit)
    code = f"import sys, tensorflow as tf\n{IMPORTS[load]}"
    for contents, imports in (("3", True), ("5", False)):
        target.write_text(contents)
        command = [sys.executable, "-c", code, folder]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert (done.returncode == 0) == imports, done.stderr[-2000:]
        if not imports:
            assert "Cannot reshape a tensor with 3 elements to shape [5]" in done.stderr


def debug_dump_in_the_graph(meta_graph, target):
    """2. A DebugNanCount, stateless and not on the deny-list the guard had, whose count feeds
    a Reshape's shape: importing evaluates it, and its debug_urls make the folder `target`."""

    def node(name, op, inputs, **types):
        made = tf.compat.v1.NodeDef(name=name, op=op, input=inputs)
        for attr, dtype in types.items():
            made.attr[attr].type = dtype.as_datatype_enum
        return made

    count = node("nan_count", "DebugNanCount", ["numbers"], T=tf.float32)
    count.attr["debug_urls"].list.s.append(f"file://{target}".encode())
    count.attr["tensor_name"].s = b"numbers:0"
    meta_graph.graph_def.node.extend(
        [
            const_node("numbers", [1.0, 2.0, 3.0]),
            count,
            const_node("offset", np.int64(3)),
            node("three", "AddV2", ["nan_count", "offset"], T=tf.int64),
            const_node("flat", [-1]),
            node("shape", "Reshape", ["three", "flat"], T=tf.int64, Tshape=tf.int32),
            node("r", "Reshape", ["numbers", "shape"], T=tf.float32, Tshape=tf.int64),
        ]
    )


def test_an_op_importing_would_run_is_refused_unless_it_only_computes(written, tmp_path):
    """2. Every stateless op a loader imports must be on the list of those that only compute;
    unguarded, importing the graph runs the debug op, which makes its folder."""
    folder, target = crafted(written, tmp_path, debug_dump_in_the_graph, "tf1_builder")
    found = refusals(folder)
    assert found == [
        "nan_count: DebugNanCount is not an op that only computes; importing the SavedModel"
        " may run it, reached or not"
    ]
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed.startswith("refused by the guard: nan_count: DebugNanCount")
    assert not target.exists()
    code = f"import sys, tensorflow as tf\n{IMPORTS['loader.load']}"
    subprocess.run([sys.executable, "-c", code, folder], capture_output=True, check=False)
    assert target.exists()


def test_a_vocabulary_file_is_an_asset_of_the_savedmodel(written):
    """A model of words whose vocabulary is a file passes the guard: the table's initializer
    reads an asset, a file of the SavedModel's own folder."""
    folder = written["keras_vocabulary_file"]
    [asset] = saved_meta_graph(folder).asset_file_def
    assert (folder / "assets" / asset.filename).read_text() == "a\nb\nc\n"
    assert refusals(folder) == []


def asset_path_outside(meta_graph, target):
    meta_graph.asset_file_def[0].filename = str(target)


def asset_path_up_and_out(meta_graph, target):
    meta_graph.asset_file_def[0].filename = f"../../{target.name}"


def vocabulary_from_another_file(meta_graph, target):
    """TF1's loader.load: the graph's call of the table's initializer passes a constant path
    where the asset's is."""
    initializer = next(
        f.signature.name
        for f in meta_graph.graph_def.library.function
        if any(n.op == op_table.READS_AN_ASSET for n in f.node_def)
    )
    call = next(n for n in meta_graph.graph_def.node if n.attr["f"].func.name == initializer)
    meta_graph.graph_def.node.append(const_node("elsewhere", str(target)))
    call.input[0] = "elsewhere"


def asset_made_a_constant(meta_graph, target):
    """tf.saved_model.load: the object the table's initializer captures as its file is a
    constant path, not an asset."""
    objects = meta_graph.object_graph_def
    asset = next(node for node in objects.nodes if node.WhichOneof("kind") == "asset")
    meta_graph.graph_def.node.append(const_node("elsewhere", str(target)))
    asset.constant.operation = "elsewhere"


def vocabulary_from_another_file_in_a_tf1_graph(meta_graph, target):
    """A TF1 graph's table reads a constant path in the graph, not the asset's tensor."""
    read = next(n for n in meta_graph.graph_def.node if n.op == op_table.READS_AN_ASSET)
    meta_graph.graph_def.node.append(const_node("elsewhere", str(target)))
    read.input[1] = "elsewhere"


# Each crafted SavedModel of words, what the guard says of it, and the load that reads the
# file elsewhere, unguarded, and the kind of SavedModel crafted.
CRAFTED_ASSETS = {
    "an asset's path outside its folder": (
        asset_path_outside,
        "not a file in the SavedModel's assets folder",
        "loader_load",
        "keras_vocabulary_file",
    ),
    "an asset's path up and out of its folder": (
        asset_path_up_and_out,
        "not a file in the SavedModel's assets folder",
        "loader_load",
        "keras_vocabulary_file",
    ),
    "the vocabulary read from another file": (
        vocabulary_from_another_file,
        "InitializeTableFromTextFileV2 reads a file that is not an asset of the SavedModel",
        "loader_load",
        "keras_vocabulary_file",
    ),
    "the asset made a constant path": (
        asset_made_a_constant,
        "InitializeTableFromTextFileV2 reads a file that is not an asset of the SavedModel",
        "saved_model_load",
        "keras_vocabulary_file",
    ),
    "a TF1 graph's vocabulary read from another file": (
        vocabulary_from_another_file_in_a_tf1_graph,
        "InitializeTableFromTextFileV2 reads a file that is not an asset of the SavedModel",
        "loader_load",
        "tf1_vocabulary_file",
    ),
}


@pytest.mark.parametrize("case", CRAFTED_ASSETS)
def test_a_vocabulary_read_from_elsewhere_is_refused(written, tmp_path, case):
    edit, named, _, kind = CRAFTED_ASSETS[case]
    folder, _ = crafted(written, tmp_path, edit, kind)
    found = refusals(folder)
    assert found and named in found[0], found


@pytest.mark.parametrize("case", CRAFTED_ASSETS)
def test_a_vocabulary_from_elsewhere_is_read_when_loaded_unguarded(written, tmp_path, case):
    """TensorFlow reads the file the crafted SavedModel names: absent, the load fails naming
    it."""
    edit, _, load, kind = CRAFTED_ASSETS[case]
    folder, target = crafted(written, tmp_path, edit, kind)
    with pytest.raises(tf.errors.NotFoundError, match=target.name):
        graph = tf.Graph()
        with graph.as_default(), session(graph, threads=1) as sess:
            if load == "loader_load":
                tf.compat.v1.saved_model.loader.load(sess, tfgraph.SERVE, str(folder))
            else:
                tf.saved_model.load(str(folder))
                sess.run(tf.compat.v1.tables_initializer())


def test_an_asset_linked_out_of_its_folder_is_refused(written, tmp_path):
    folder = tmp_path / "savedmodel"
    shutil.copytree(written["keras_vocabulary_file"], folder)
    [asset] = saved_meta_graph(folder).asset_file_def
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    (folder / "assets" / asset.filename).unlink()
    (folder / "assets" / asset.filename).symlink_to(outside)
    found = refusals(folder)
    assert found and "not a file in the SavedModel's assets folder" in found[0], found


def behind_an_honest_meta_graph(written, directory):
    """1. The tf1_builder SavedModel with a hostile meta graph tagged serve (its initializer
    writes a file) after an honest one tagged train; returns its folder and the file."""
    folder, target = crafted(written, directory, write_in_an_initializer, "tf1_builder")
    path = folder / checkpoint_files.SAVED_MODEL_FILE
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(path.read_bytes())
    honest = saved_model_pb2.SavedModel()
    honest.ParseFromString(
        (written["tf1_builder"] / checkpoint_files.SAVED_MODEL_FILE).read_bytes()
    )
    train = honest.meta_graphs[0]
    train.meta_info_def.ClearField("tags")
    train.meta_info_def.tags.append("train")
    saved_model.meta_graphs.insert(0, train)
    path.write_bytes(saved_model.SerializeToString())
    return folder, target


def test_the_guard_checks_the_meta_graph_the_loaders_load(written, tmp_path):
    """1. Every loader loads the meta graph tagged serve, the second: the guard checks that
    one and refuses it."""
    folder, target = behind_an_honest_meta_graph(written, tmp_path)
    assert saved_meta_graph(folder).meta_info_def.tags == ["serve"]
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed.startswith("refused by the guard: ") and "WriteFile" in held.failed
    assert not target.exists()


def test_an_entrys_tags_choose_the_meta_graph_the_loads_load(written, tmp_path):
    """With the entry's tags, train, the honest meta graph is checked and loaded, each load
    restoring every variable; tags no meta graph has are one line."""
    folder, target = behind_an_honest_meta_graph(written, tmp_path)
    states = load_savedmodel(folder, tmp_path / "values", tags=["train"])
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert held.failed is None, (state, held.failed)
    assert not target.exists()
    with pytest.raises(ValueError, match="no meta graph tagged eval, the entry's tags"):
        saved_meta_graph(folder, ["eval"])


def savedmodel_of_tags(*tag_sets):
    """The bytes of a saved_model.pb holding an empty meta graph for each tag set."""
    saved_model = saved_model_pb2.SavedModel()
    for tags in tag_sets:
        saved_model.meta_graphs.add().meta_info_def.tags.extend(tags)
    return saved_model.SerializeToString()


BROKEN = {
    "bytes that do not parse": (b"\xff" * 64, "not a SavedModel (damaged, truncated"),
    "no meta graph": (savedmodel_of_tags(), "saved_model.pb: it holds no meta graph"),
    "several meta graphs, none tagged serve": (
        savedmodel_of_tags(["train"], ["eval", "gpu"]),
        "2 meta graphs and none tagged serve: give the entry's tags, the tag set of the one to"
        " load (its tag sets: train; eval,gpu)",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_saved_model_pb_is_one_line(written, tmp_path, case):
    """7. A saved_model.pb that is no SavedModel, or has no meta graph the loaders would load
    unasked."""
    contents, says = BROKEN[case]
    folder = tmp_path / "savedmodel"
    shutil.copytree(written["module"], folder)
    (folder / checkpoint_files.SAVED_MODEL_FILE).write_bytes(contents)
    loaded = run_script(
        "load_savedmodel",
        settings=settings_of(["tf2.loader_load"]),
        savedmodel=folder,
        output=tmp_path / "v",
    )
    assert loaded.returncode == 1
    [line] = [line for line in loaded.stderr.splitlines() if line.startswith("error: ")]
    assert line == loaded.stderr.strip().splitlines()[-1] and says in line, loaded.stderr
    assert "Traceback" not in loaded.stderr
    assert not (tmp_path / "v").exists()


def vocabulary_passed_through_two_functions(meta_graph, _target):
    """A TF1 graph's table initialised in a function, Inner, that a function, Outer, calls
    with the vocabulary's path it is given; the graph calls Outer with the asset's node."""
    graph = meta_graph.graph_def.node
    init = next(n for n in graph if n.op == "InitializeTableFromTextFileV2")
    types = [tf.resource.as_datatype_enum, tf.string.as_datatype_enum]

    def passing(name, body_node, inputs):
        function = meta_graph.graph_def.library.function.add()
        function.signature.name = name
        function.signature.is_stateful = True
        for argument, dtype in zip(("table", "path"), types, strict=True):
            function.signature.input_arg.add(name=argument, type=dtype)
        body_node.ClearField("input")
        body_node.input.extend(inputs)
        function.node_def.append(body_node)

    def call(name, function, inputs):
        node = tf.compat.v1.NodeDef(name=name, op="StatefulPartitionedCall", input=inputs)
        node.attr["Tin"].list.type.extend(types)
        node.attr["Tout"].list.SetInParent()
        node.attr["f"].func.name = function
        return node

    inner_init = tf.compat.v1.NodeDef()
    inner_init.CopyFrom(init)
    passing("Inner", inner_init, ["table", "path"])
    passing("Outer", call("inner", "Inner", []), ["table", "path"])
    init.CopyFrom(call(init.name, "Outer", ["hash_table", "vocabulary"]))


def test_an_asset_passed_on_from_function_to_function_passes_the_guard(written, tmp_path):
    """An Estimator export's way: the asset's path reaches the table's initializer through two
    functions. Refused before; now bound: no load or signature is refused, and loader.load's
    signature looks its words up."""
    folder, _ = crafted(
        written, tmp_path, vocabulary_passed_through_two_functions, "tf1_vocabulary_file"
    )
    assert refusals(folder) == []
    states = load_savedmodel(folder, tmp_path / "values")
    for state in states:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            assert not held.failed, (state, held.failed)
    runs = signature_runs(tmp_path / "values")
    assert runs[("tf1.loader_load", "serving_default/y")] == "equal"
    assert not any(run.startswith(orderings.GUARD_REFUSED) for run in runs.values()), runs


def load_unguarded(folder, output):
    """load_savedmodel.py, confined, with the guard switched off by the tests' own hook."""
    kind = checkpoint_files.savedmodel_kind(folder)
    states = given_savedmodel.kind_orderings(kind)
    command = [sys.executable, PROJECT / "scripts" / "load_savedmodel.py"]
    command += ["--settings", settings_of(states)]
    command += ["--savedmodel", folder, "--output", output, "--sandbox", "required"]
    env = {**os.environ, "CKPTORDER_TESTS_SWITCH_THE_GUARD_OFF": "1"}
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env), states


# Crafted SavedModels that do harm through files, each (written, directory) to its folder and
# the file it writes; and whether TensorFlow says the write was refused (the debug op does
# not: its dump is refused in silence).
HARMFUL = {
    "1. a hostile meta graph tagged serve": (behind_an_honest_meta_graph, True),
    "2. a debug op that importing runs": (
        lambda written, directory: crafted(
            written, directory, debug_dump_in_the_graph, "tf1_builder"
        ),
        False,
    ),
}


@pytest.mark.skipif(not sandbox.landlock_abi(), reason="no Landlock in this kernel")
@pytest.mark.parametrize("case", HARMFUL, ids=list(HARMFUL))
def test_with_the_guard_off_the_sandbox_alone_stops_the_write(written, tmp_path, case):
    """The loads run what the guard would refuse; the kernel refuses its writes."""
    make, said = HARMFUL[case]
    folder, target = make(written, tmp_path)
    finished, states = load_unguarded(folder, tmp_path / "values")
    assert finished.returncode == 0, finished.stderr
    failures = []
    for state in ["initial", *states]:
        with Values(tmp_path / "values" / f"{state}.npz") as held:
            failures.append(held.failed or "")
    assert any("Permission denied" in failure for failure in failures) == said, failures
    assert not target.exists()


def tagged_eval(meta_graph, _target):
    """An eval-only export's tag set: its one meta graph tagged eval, none serve."""
    meta_graph.meta_info_def.ClearField("tags")
    meta_graph.meta_info_def.tags.append("eval")


@pytest.mark.parametrize("kind", ["module", "tf1_builder"])
def test_a_savedmodel_of_one_meta_graph_is_loaded_by_its_own_tags(written, tmp_path, kind):
    """A SavedModel whose only meta graph is tagged eval is guarded and loaded by that tag,
    each load leaving what it leaves of the same SavedModel tagged serve."""
    folder, _ = crafted(written, tmp_path, tagged_eval, kind)
    assert saved_meta_graph(folder).meta_info_def.tags == ["eval"]
    states = load_savedmodel(folder, tmp_path / "eval")
    load_savedmodel(written[kind], tmp_path / "serve")
    for state in states:
        eval_run, serve_run = (tmp_path / tags / f"{state}.npz" for tags in ("eval", "serve"))
        assert eval_run.read_bytes() == serve_run.read_bytes(), state


def test_a_signature_of_serialized_examples_runs_on_empty_ones(tmp_path):
    """An Estimator's serving signature parses serialized tf.Examples: the batch is empty
    Examples, which parse where the feature has a default (the output is then the restored
    loads' own, bit for bit), and raise in TensorFlow's words where it is required."""
    code = (
        "import sys, savedmodels\n"
        "savedmodels.tf1_parsing_examples(sys.argv[1], sys.argv[2] == 'default')\n"
    )
    for feature in ("default", "required"):
        folder = tmp_path / feature
        command = [sys.executable, "-c", code, folder, feature]
        subprocess.run(command, cwd=TESTS, check=True, capture_output=True)
        load_savedmodel(folder, tmp_path / f"{feature}_values", trust=True)
    runs = signature_runs(tmp_path / "default_values")
    assert runs[("tf1.loader_load", "serving_default/y")] == "equal"
    checks = json.loads((tmp_path / "required_values" / INFERENCE).read_text())
    error = checks["tf1.loader_load"]["serving_default/y"]["error"]
    assert "Feature: x (data type: float) is required but could not be found" in error
