"""The guard on untrusted graphs: crafted `.meta` files are refused before any of their ops
runs, honest ones pass. Each crafted graph would write a file if it ran; the test checks the
file was never written."""

import json
import re
import resource
from pathlib import Path

import numpy as np
import pytest

from ckptorder import initializer_facts, network, orderings, tfgraph
from ckptorder.formats import ckpt
from ckptorder.guard import checks, graph_sizes, importing, op_table
from ckptorder.tfsession import session, tf
from ckptorder.values import Values
from conftest import run_restore, run_script
from crafted_graphs import call_node, const_node, depends_on, evil, function_def, name_attr_list

INIT_THEN_RESTORE = orderings.ordering_of("initialize_all", "restore_all")
RESTORE_ONLY = orderings.ordering_of("restore_all")
INIT_ONLY = orderings.ordering_of("initialize_all")


def settings(*ordering_names, trust=False):
    return json.dumps(
        {
            "checkpoint": "crafted",
            "orderings": list(ordering_names),
            "partial_variables": None,
            "moving_averages": None,
            "trust": trust,
            "output_tensor": None,
        }
    )


def honest_variable(value=0.0):
    initializer = tf.compat.v1.constant_initializer(value)
    return tf.compat.v1.get_variable("v", [2, 2], initializer=initializer)


def honest():
    honest_variable()


def after(op):
    """The zeros `v` starts from, computed only once `op` has run."""
    with tf.control_dependencies([op]):
        return tf.identity(tf.zeros([2, 2]))


def write_to(target):
    return tf.io.write_file(str(target), "written")


def crafted(directory, make, value=0.0):
    """A checkpoint of `v` (all `value`) saved from an honest graph, beside the `.meta` file
    of the graph that `make` builds, which never runs here. Returns the prefix."""
    prefix = str(directory / "model.ckpt")
    with tf.Graph().as_default():
        variable = honest_variable(value)
        saver = tf.compat.v1.train.Saver()
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(variable.initializer)
            saver.save(sess, prefix, write_meta_graph=False)
    with tf.Graph().as_default():
        saver_def = make() or tf.compat.v1.train.Saver().as_saver_def()
        tf.compat.v1.train.export_meta_graph(prefix + ".meta", saver_def=saver_def)
    return prefix


def write_in_initializer(target):
    tf.compat.v1.get_variable("v", initializer=after(write_to(target)))


def write_in_function(target):
    @tf.function
    def poisoned(x):
        write_to(target)
        return x

    tf.compat.v1.get_variable("v", initializer=poisoned(tf.zeros([2, 2])))


def write_in_function_of_function(target):
    @tf.function
    def inner(x):
        write_to(target)
        return x

    @tf.function
    def outer(x):
        return inner(x) + 0.0

    tf.compat.v1.get_variable("v", initializer=outer(tf.zeros([2, 2])))


def save_in_initializer(target):
    save = tf.raw_ops.SaveV2(
        prefix=str(target), tensor_names=["x"], shape_and_slices=[""], tensors=[tf.zeros([1])]
    )
    tf.compat.v1.get_variable("v", initializer=after(save))


def print_to_file(target):
    tf.compat.v1.get_variable(
        "v", initializer=after(tf.print("written", output_stream=f"file://{target}"))
    )


def write_in_restore_op(target):
    honest_variable()
    saver = tf.compat.v1.train.Saver()
    restore = tf.compat.v1.get_default_graph().get_operation_by_name(
        saver.as_saver_def().restore_op_name
    )
    poisoned = tf.group(restore, write_to(target), name="poisoned_restore")
    saver_def = saver.as_saver_def()
    saver_def.restore_op_name = poisoned.name
    return saver_def


def write_behind_the_saver_filename(target):
    """The tensor the Saver's filename is fed to, computed by a write: fed when restoring, so
    harmless there, but run when an initializer reaches it."""
    with tf.control_dependencies([write_to(target)]):
        filename = tf.identity(tf.constant("model.ckpt"), name="filename")
    tf.compat.v1.get_variable("v", initializer=after(filename))
    saver_def = tf.compat.v1.train.Saver().as_saver_def()
    saver_def.filename_tensor_name = filename.name
    return saver_def


def unlisted_variable_behind_a_write(target):
    """A resource variable no collection lists, created after a write: restore reads every
    variable op, so reading it runs the write."""
    honest_variable()
    with tf.control_dependencies([write_to(target)]):
        tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[2, 2], shared_name="x", name="x")


def write_behind_the_fed_filename(target):
    """The Saver's fed filename node made to depend on a write (through a variable op, which
    keeps Grappler from dropping the edge): feeding a node does not stop its control inputs."""
    honest_variable()
    saver = tf.compat.v1.train.Saver()
    with tf.control_dependencies([write_to(target)]):
        handle = tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[], shared_name="h", name="h")
    graph = tf.compat.v1.get_default_graph()
    graph.get_operation_by_name("save/Const")._add_control_input(handle.op)
    return saver.as_saver_def()


def restore_op_named_the_fed_filename(target):
    honest_variable()
    saver = tf.compat.v1.train.Saver()
    graph = tf.compat.v1.get_default_graph()
    graph.get_operation_by_name("save/Const")._add_control_input(write_to(target))
    saver_def = saver.as_saver_def()
    saver_def.restore_op_name = "save/Const"
    return saver_def


REFUSED = {
    "WriteFile grouped into an initializer": (write_in_initializer, INIT_THEN_RESTORE),
    "WriteFile in a function an initializer calls": (write_in_function, INIT_THEN_RESTORE),
    "a function calling a function that writes": (
        write_in_function_of_function,
        INIT_THEN_RESTORE,
    ),
    "SaveV2 in an initializer": (save_in_initializer, INIT_THEN_RESTORE),
    "PrintV2 to a file": (print_to_file, INIT_ONLY),
    "the Saver's restore op grouped with a write": (write_in_restore_op, RESTORE_ONLY),
    "an initializer reaching a write behind the Saver's filename": (
        write_behind_the_saver_filename,
        INIT_ONLY,
    ),
    "1. a variable no collection lists, behind a write": (
        unlisted_variable_behind_a_write,
        RESTORE_ONLY,
    ),
    "2. a write behind the fed filename": (write_behind_the_fed_filename, RESTORE_ONLY),
    "2. the restore op named as the fed filename": (
        restore_op_named_the_fed_filename,
        RESTORE_ONLY,
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_crafted_graph_is_refused_before_it_runs(tmp_path, capsys, case):
    make, ordering = REFUSED[case]
    target = tmp_path / "written.txt"
    prefix = crafted(tmp_path, lambda: make(target))
    assert_refused(tmp_path, capsys, prefix, ordering)
    assert not written(target)


def assert_refused(tmp_path, capsys, prefix, ordering, because=""):
    """restore refuses `prefix`'s graph with one line, and writes no output."""
    with pytest.raises(SystemExit) as exit_:
        run_restore(settings(ordering), prefix, tmp_path / "out")
    assert exit_.value.code == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: {prefix}.meta: refused, restoring would run ")
    assert because in error
    assert "set trust: true only for a checkpoint you trust" in error
    assert not (tmp_path / "out").exists()
    return error


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_trust_runs_a_refused_graph_as_it_is(tmp_path, case):
    """The crafted graphs are no straw men: trusted, each writes its file."""
    make, ordering = REFUSED[case]
    target = tmp_path / "written.txt"
    prefix = crafted(tmp_path, lambda: make(target))
    run_restore(settings(ordering, trust=True), prefix, tmp_path / "out")
    assert written(target)


def written(target):
    """Whether anything wrote `target` (SaveV2 writes files named after it)."""
    return any(target.parent.glob(f"{target.name}*"))


# Graphs edited as protocol buffers: what TensorFlow's Python API would not build.


def edited(directory, edit):
    """A checkpoint of `v` (zeros) and the `.meta` file of its honest graph as `edit`
    (taking the MetaGraphDef and `directory`) changes it. Returns the prefix."""
    directory.mkdir(exist_ok=True)
    prefix = crafted(directory, honest)
    meta_graph = importing.read_meta_graph(f"{prefix}.meta")
    edit(meta_graph, directory)
    Path(f"{prefix}.meta").write_bytes(meta_graph.SerializeToString())
    return prefix


def function_through_a_nested_attribute(meta_graph, directory):
    """3. Outer calls whatever function its attribute g names; the call site binds g to Evil
    inside f's NameAttrList, an attribute the old walk did not read."""
    library = meta_graph.graph_def.library.function
    library.extend([evil(directory / "written.txt")])
    library.append(function_def("Outer", [call_node("call", "g")], "call:output:0", [("g", None)]))
    depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list("Outer", g="Evil")))


def function_through_an_attribute_default(meta_graph, directory):
    """3. The same, with Evil the default of Outer's attribute g, which the call leaves."""
    library = meta_graph.graph_def.library.function
    library.extend([evil(directory / "written.txt")])
    library.append(
        function_def("Outer", [call_node("call", "g")], "call:output:0", [("g", "Evil")])
    )
    depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list("Outer")))


def function_node_named_like_the_fed_filename(meta_graph, directory):
    """6. A function `save` whose node `Const` calls Evil: joined, its name is the fed
    filename's, save/Const, and the old walk took it for the fed node and stopped."""
    library = meta_graph.graph_def.library.function
    library.extend([evil(directory / "written.txt")])
    library.append(
        function_def("save", [call_node("Const", name_attr_list("Evil"))], "Const:output:0")
    )
    depends_on(meta_graph, "save/restore_all", call_node("p", name_attr_list("save")))


EDITED = {
    "3. a function named in a nested attribute": (
        function_through_a_nested_attribute,
        INIT_ONLY,
    ),
    "3. a function named by an attribute's default": (
        function_through_an_attribute_default,
        INIT_ONLY,
    ),
    "6. a function node whose joined name is the fed filename's": (
        function_node_named_like_the_fed_filename,
        RESTORE_ONLY,
    ),
}


@pytest.mark.parametrize("case", EDITED, ids=list(EDITED))
def test_a_write_however_its_function_is_named_is_refused(tmp_path, capsys, case):
    edit, ordering = EDITED[case]
    prefix = edited(tmp_path, edit)
    error = assert_refused(tmp_path, capsys, prefix, ordering)
    assert error.split(";")[0].endswith("Evil/w: WriteFile writes files")
    assert not written(tmp_path / "written.txt")
    run_restore(settings(ordering, trust=True), prefix, tmp_path / "trusted")
    assert written(tmp_path / "written.txt")


def recursive_function(meta_graph, _):
    library = meta_graph.graph_def.library.function
    library.append(function_def("Again", [call_node("call", name_attr_list("Again"))], "out"))
    library[-1].ret["out"] = "call:output:0"
    depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list("Again")))


def undeclared_placeholder(meta_graph, _):
    library = meta_graph.graph_def.library.function
    library.append(function_def("Outer", [call_node("call", "h")], "call:output:0"))
    depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list("Outer")))


def test_recursion_and_unresolved_attributes_are_refused(tmp_path):
    """A function that calls itself (TensorFlow would instantiate it without end) and an
    attribute placeholder its function does not declare (nothing could say what it runs)."""
    found = checks.refusals(
        importing.read_meta_graph(f"{edited(tmp_path / 'r', recursive_function)}.meta")
    )
    assert found == ["Again: calls itself, through Again"]
    found = checks.refusals(
        importing.read_meta_graph(f"{edited(tmp_path / 'u', undeclared_placeholder)}.meta")
    )
    assert found == [
        "v/Assign <- p <- Outer/call: StatefulPartitionedCall names attribute(s) h its"
        " function does not declare"
    ]


def restore_reading_another_checkpoint(meta_graph, directory):
    """5. The fed filename passes through an IdentityN whose second output, another
    checkpoint's prefix, is what the Saver's RestoreV2 reads."""
    (directory / "other").mkdir()
    other = crafted(directory / "other", honest, value=1.0)
    graph = meta_graph.graph_def.node
    graph.append(const_node("other", other))
    both = tf.compat.v1.NodeDef(name="fn", op="IdentityN", input=["save/Const", "other"])
    both.attr["T"].list.type.extend([tf.string.as_datatype_enum] * 2)
    graph.append(both)
    next(n for n in graph if n.name == "save/RestoreV2").input[0] = "fn:1"
    meta_graph.saver_def.filename_tensor_name = "fn:0"


def test_a_restore_of_another_checkpoint_through_the_fed_node_is_refused(tmp_path, capsys):
    prefix = edited(tmp_path, restore_reading_another_checkpoint)
    assert_refused(tmp_path, capsys, prefix, RESTORE_ONLY, because="fn: IdentityN is fed")
    found = checks.refusals(importing.read_meta_graph(f"{prefix}.meta"))
    assert any(
        line.endswith("RestoreV2: RestoreV2 reads a checkpoint other than the one restored")
        for line in found
    )
    output = run_restore(settings(RESTORE_ONLY, trust=True), prefix, tmp_path / "trusted")
    with Values(output / f"{RESTORE_ONLY}.npz") as values:
        assert (values.read("v") == 1.0).all()  # the other checkpoint's, not the zeros saved


def test_a_secret_read_into_a_listed_variables_resource_is_refused(tmp_path, capsys):
    """1. A variable op no collection lists shares the listed `v`'s resource; its control
    input assigns a file's bytes to it, and restore reads every variable op."""
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())

    def steal():
        tf.compat.v1.get_variable(
            "v", [2, 2], initializer=tf.compat.v1.zeros_initializer(), use_resource=True
        )
        stolen = tf.reshape(tf.io.decode_raw(tf.io.read_file(str(secret)), tf.float32), [2, 2])
        shared = tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[2, 2], shared_name="v")
        with tf.control_dependencies([tf.raw_ops.AssignVariableOp(resource=shared, value=stolen)]):
            tf.raw_ops.VarHandleOp(dtype=tf.float32, shape=[2, 2], shared_name="v", name="copy")

    prefix = crafted(tmp_path, steal)
    assert_refused(tmp_path, capsys, prefix, INIT_ONLY, because="ReadFile reads files")
    output = run_restore(settings(INIT_ONLY, trust=True), prefix, tmp_path / "trusted")
    with Values(output / "initial.npz") as values:
        assert values.read("copy").tobytes() == secret.read_bytes()


def test_import_runs_only_the_checked_part_of_a_graph(tmp_path):
    """4. Importing a graph runs shape inference, which evaluates ops: a dangling Reshape whose
    shape a ReadFile gives reads its file on import. restore imports only what it checked."""
    secret = tmp_path / "shape.bin"
    secret.write_bytes(np.array([4, 1], dtype=np.int32).tobytes())

    def dangling_read():
        honest_variable()
        shape = tf.io.decode_raw(tf.io.read_file(tf.constant(str(secret))), tf.int32)
        tf.reshape(tf.zeros([4]), shape, name="dangling")

    prefix = crafted(tmp_path, dangling_read)
    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(f"{prefix}.meta")
        assert graph.get_tensor_by_name("dangling:0").shape == (4, 1)  # the file's bytes
    meta_graph = importing.read_meta_graph(f"{prefix}.meta")
    imported = {node.op for node in importing.importable(meta_graph).graph_def.node}
    assert "ReadFile" not in imported and "Reshape" not in imported
    output = run_restore(settings(RESTORE_ONLY, INIT_ONLY), prefix, tmp_path / "out")
    assert (output / "initial.npz").exists()


def test_a_read_on_the_checked_part_is_refused_without_importing_it(tmp_path):
    """4. The same read made part of an initializer's shape, and one that would reach the
    network through a cloud path (never run here): refused from the protocol buffer."""
    local = tmp_path / "shape.bin"
    local.write_bytes(np.array([2, 2], dtype=np.int32).tobytes())
    with tf.Graph().as_default():
        shape = tf.io.decode_raw(tf.io.read_file(tf.constant(str(local), name="path")), tf.int32)
        tf.compat.v1.get_variable("v", initializer=tf.reshape(tf.zeros([4]), shape))
        meta_graph = tf.compat.v1.train.export_meta_graph(
            saver_def=tf.compat.v1.train.Saver().as_saver_def()
        )
    for url in (str(local), "gs://bucket/shape.bin"):
        path = next(n for n in meta_graph.graph_def.node if n.name == "path")
        path.attr["value"].tensor.string_val[:] = [url.encode()]
        found = checks.refusals(meta_graph)
        assert any(line.endswith("ReadFile: ReadFile reads files") for line in found), found


def loop_in_an_initializer():
    (counter,) = tf.while_loop(lambda i: tf.constant(True), lambda i: i + 1, [tf.constant(0)])
    tf.compat.v1.get_variable("v", initializer=after(counter))


def test_a_loop_is_refused_and_a_trusted_one_stops_at_the_time_limit(tmp_path, capsys):
    """7. An endless loop in an initializer: refused; trusted, it runs until restore's time
    limit stops it with one line and no output."""
    prefix = crafted(tmp_path, loop_in_an_initializer)
    assert_refused(tmp_path, capsys, prefix, INIT_ONLY, because="is a loop")
    stopped = run_script(
        "restore",
        settings=settings(INIT_ONLY, trust=True),
        checkpoint=prefix,
        output=str(tmp_path / "out"),
        **{"time-limit": "0.15"},
    )
    assert stopped.returncode == 1
    assert "restore: initial: step initialize_all" not in stopped.stderr
    assert "restore: unseeded initializers: none" in stopped.stderr  # the audit had begun
    assert stopped.stderr.strip().splitlines()[-1] == (
        "error: restore stopped after its time limit of 0.15 minutes (time_limit in"
        " config.yaml); nothing was written"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["model.ckpt.index", "model.ckpt.data-00000-of-00001", "model.ckpt.meta", "checkpoint"]
    )


TERABYTES = [2**20, 2**20]
ALLOCATIONS = {
    "Const": lambda shape: tf.raw_ops.Const(
        value=tf.make_tensor_proto(0.0, shape=shape), dtype=tf.float32
    ),
    "Fill": lambda shape: tf.fill(shape, 0.0),
    "RandomUniform": lambda shape: tf.random.uniform(shape),
    "Tile": lambda shape: tf.tile(tf.zeros([1, 1]), shape),
    "Mul": lambda shape: tf.zeros([shape[0], 1]) * tf.zeros([1, shape[1]]),
}


@pytest.mark.parametrize("op", ALLOCATIONS)
def test_an_allocation_over_the_budget_is_refused(tmp_path, capsys, op):
    """7. A few bytes of graph that would ask for 4 TiB: refused, naming the op and the size
    against the budget (4x the checkpoint's largest tensor, 16 bytes, plus 64 MiB)."""
    prefix = crafted(tmp_path, lambda: allocating(ALLOCATIONS[op](TERABYTES)))
    error = assert_refused(tmp_path, capsys, prefix, INIT_ONLY)
    assert f"{op} of 4,398,046,511,104 bytes, over the budget of 67,108,928 bytes" in error


def allocating(tensor):
    """`v` initialised from zeros plus none of `tensor`: computed, since the value uses it."""
    tf.compat.v1.get_variable("v", initializer=tf.zeros([2, 2]) + 0.0 * tf.reduce_min(tensor))


def test_allocations_that_add_up_over_the_budget_are_refused(tmp_path, capsys):
    """Each 40 MB, within a tensor's budget; the two fills and their sum, 120 MB, are not."""
    prefix = crafted(tmp_path, lambda: allocating(tf.fill([10**7], 1.0) + tf.fill([10**7], 2.0)))
    error = assert_refused(tmp_path, capsys, prefix, INIT_ONLY)
    # 120 MB and the graph's few small constants
    assert re.search(
        r"the graph: its allocations add up to 120,000,\d{3} bytes, over the budget of"
        r" 67,108,928 bytes \(4x the checkpoint \+ 64 MiB\)",
        error,
    )


def memory_mapped_file():
    region = tf.raw_ops.ImmutableConst(dtype=tf.float32, shape=[2, 2], memory_region_name="/x")
    tf.compat.v1.get_variable("v", initializer=region + 0.0)


def write_in_a_conditional_branch():
    @tf.function
    def branch(predicate):
        return tf.cond(predicate, lambda: tf.zeros([2, 2]), lambda: after(write_to("/x")))

    tf.compat.v1.get_variable("v", initializer=branch(tf.constant(True)))


def string_splat():
    strings = tf.raw_ops.Const(value=tf.make_tensor_proto("a", shape=[2**30]), dtype=tf.string)
    tf.compat.v1.get_variable("v", initializer=tf.identity(strings)[:1])


def tile_of_a_resource_read():
    source = tf.compat.v1.get_variable("v", [2, 2], use_resource=True)
    tiled = tf.tile(source.read_value(), [2**20, 2**20])
    tf.compat.v1.get_variable("w", initializer=tf.reduce_sum(tiled), use_resource=True)


def huge_range():
    total = tf.reduce_sum(tf.range(2**40, dtype=tf.int64))
    tf.compat.v1.get_variable("v", initializer=tf.zeros([2]) + tf.cast(total, tf.float32))


def placeholder_filename_behind_a_write():
    honest_variable()
    saver_def = tf.compat.v1.train.Saver().as_saver_def()
    tf.compat.v1.placeholder(tf.string, [], name="filename")
    graph = tf.compat.v1.get_default_graph()
    graph.get_operation_by_name("filename")._add_control_input(write_to("/x"))
    saver_def.filename_tensor_name = "filename:0"
    return saver_def


def cycle_of_identities(meta_graph):
    for name, other in (("a", "b"), ("b", "a")):
        node = meta_graph.graph_def.node.add(name=name, op="Identity", input=[other])
        node.attr["T"].type = tf.float32.as_datatype_enum
    next(n for n in meta_graph.graph_def.node if n.name == "v/Assign").input.append("^a")


MORE = {
    "a memory-mapped file": (memory_mapped_file, "ImmutableConst maps a file into memory"),
    "a write in a conditional's branch": (write_in_a_conditional_branch, "WriteFile writes"),
    "a splat string constant": (string_splat, "Const of 25,769,803,776 bytes, over the budget"),
    "a Tile of a resource variable's read": (tile_of_a_resource_read, "Tile of a size not known"),
    "a Range of 2^40": (huge_range, "Range of 8,796,093,022,208 bytes, over the budget"),
    "a Placeholder filename behind a write": (
        placeholder_filename_behind_a_write,
        "filename <- WriteFile: WriteFile writes files",
    ),
    "a cycle": (honest, "the graph: its nodes form a cycle", cycle_of_identities),
}


@pytest.mark.parametrize("case", MORE, ids=list(MORE))
def test_more_crafted_graphs_are_refused(case):
    """What else an attacker could try, refused from the protocol buffer (never run)."""
    make, expected, *edit = MORE[case]
    with tf.Graph().as_default():
        saver_def = make() or tf.compat.v1.train.Saver().as_saver_def()
        meta_graph = tf.compat.v1.train.export_meta_graph(saver_def=saver_def)
    for change in edit:
        change(meta_graph)
    budget = graph_sizes.Budget(tensor=2**26, total=2**26)
    (first, *_) = checks.refusals(meta_graph, budget=budget)
    assert expected in first


def test_a_trusted_allocation_takes_what_it_asks_for(tmp_path):
    """The budget guards against real harm: a 1 GiB Fill, trusted, takes its 1 GiB."""
    prefix = crafted(tmp_path, lambda: allocating(tf.fill([2**14, 2**14], 1.0)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    finished = run_script(
        "restore",
        settings=settings(INIT_ONLY, trust=True),
        checkpoint=prefix,
        output=str(tmp_path / "out"),
    )
    assert finished.returncode == 0, finished.stderr
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib > max(before, 2**20)


def test_the_message_names_the_path_to_the_op(tmp_path):
    prefix = crafted(tmp_path, lambda: write_in_initializer(tmp_path / "written.txt"))
    meta_graph = importing.read_meta_graph(prefix + ".meta")
    found = checks.refusals(meta_graph)
    assert found == ["Identity <- zeros <- WriteFile: WriteFile writes files"]


def test_a_function_is_named_in_the_path(tmp_path):
    prefix = crafted(tmp_path, lambda: write_in_function_of_function(tmp_path / "w.txt"))
    meta_graph = importing.read_meta_graph(prefix + ".meta")
    (found,) = checks.refusals(meta_graph)
    assert "StatefulPartitionedCall <- " in found
    assert found.endswith("/WriteFile: WriteFile writes files")


def test_a_restore_of_another_checkpoint_in_an_initializer_is_refused(tmp_path):
    def restore_own_prefix():
        value = tf.raw_ops.RestoreV2(
            prefix=str(tmp_path / "other"),
            tensor_names=["v"],
            shape_and_slices=[""],
            dtypes=[tf.float32],
        )[0]
        tf.compat.v1.get_variable("v", initializer=tf.reshape(value, [2, 2]))

    meta_graph = importing.read_meta_graph(crafted(tmp_path, restore_own_prefix) + ".meta")
    (found,) = checks.refusals(meta_graph)
    other = str(tmp_path / "other")
    assert found.endswith(
        f"RestoreV2: RestoreV2 reads a checkpoint other than the one restored: {other!r}"
    )


def test_an_op_no_ordering_reaches_is_not_imported_nor_a_reason_to_refuse(tmp_path):
    target = tmp_path / "written.txt"

    def unreached_write():
        honest_variable()
        write_to(target)

    prefix = crafted(tmp_path, unreached_write)
    # partial_restore left out: it needs partial_variables, and its ops are the others' ops
    ordering_names = [
        o for o in ckpt.BUILT_ORDERINGS if "restore_partial" not in orderings.steps(o)
    ]
    output = run_restore(settings(*ordering_names), prefix, tmp_path / "out")
    assert sorted(p.stem for p in output.glob("*.npz")) == sorted(orderings.states(ordering_names))
    assert not written(target)


def honest_graph(directory, make):
    """A checkpoint and `.meta` file of the graph `make` builds, saved after initialisation;
    returns the guard's refusals of it, with the checkpoint's budget."""
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(1)  # build's tests turn on op determinism, process-wide
        make()
        saver = tf.compat.v1.train.Saver()
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, str(directory / "model.ckpt"))
    meta_graph = importing.read_meta_graph(directory / "model.ckpt.meta")
    budget = graph_sizes.budget(tfgraph.checkpoint_keys(str(directory / "model.ckpt")))
    return checks.refusals(meta_graph, budget=budget)


def dense_with_resource_variables():
    layer = tf.compat.v1.placeholder(tf.float32, [None, 8])
    for n, width in enumerate([16, 4]):
        with tf.compat.v1.variable_scope(f"dense_{n}"):
            kernel = tf.compat.v1.get_variable("kernel", [layer.shape[1], width], use_resource=True)
            bias = tf.compat.v1.get_variable(
                "bias", [width], initializer=tf.compat.v1.zeros_initializer(), use_resource=True
            )
        layer = tf.nn.relu(tf.matmul(layer, kernel) + bias)
    return layer


def trained_with_adam():
    loss = tf.reduce_mean(tf.square(dense_with_resource_variables()))
    tf.compat.v1.train.AdamOptimizer(0.01).minimize(loss)


def batch_norm_trained_with_momentum():
    """A convolution with batch norm's moving statistics, trained with momentum and a
    global_step, and ExponentialMovingAverage shadow variables, as TF 1.x training wrote them."""
    images = tf.compat.v1.placeholder(tf.float32, [None, 8, 8, 3])
    kernel = tf.compat.v1.get_variable(
        "conv/kernel", [3, 3, 3, 4], initializer=tf.compat.v1.glorot_uniform_initializer()
    )
    features = tf.nn.conv2d(images, kernel, 1, "SAME")
    with tf.compat.v1.variable_scope("bn"):
        gamma = tf.compat.v1.get_variable("gamma", [4], initializer=tf.compat.v1.ones_initializer())
        beta = tf.compat.v1.get_variable("beta", [4], initializer=tf.compat.v1.zeros_initializer())
        moving = [
            tf.compat.v1.get_variable(name, [4], initializer=init, trainable=False)
            for name, init in [
                ("moving_mean", tf.compat.v1.zeros_initializer()),
                ("moving_variance", tf.compat.v1.ones_initializer()),
            ]
        ]
    normed, mean, variance = tf.compat.v1.nn.fused_batch_norm(features, gamma, beta)
    updates = [
        tf.compat.v1.assign(m, 0.9 * m + 0.1 * s)
        for m, s in zip(moving, [mean, variance], strict=True)
    ]
    step = tf.compat.v1.train.get_or_create_global_step()
    with tf.control_dependencies(updates):
        train = tf.compat.v1.train.MomentumOptimizer(0.1, 0.9).minimize(
            tf.reduce_mean(tf.square(normed)), global_step=step
        )
    with tf.control_dependencies([train]):
        tf.compat.v1.train.ExponentialMovingAverage(0.99).apply(tf.compat.v1.trainable_variables())


def partitioned_orthogonal_int_string_and_bfloat16():
    tf.compat.v1.get_variable(
        "embedding", [8, 4], partitioner=tf.compat.v1.fixed_size_partitioner(2)
    )
    tf.compat.v1.get_variable(
        "orthogonal", [6, 3], initializer=tf.compat.v1.orthogonal_initializer()
    )
    tf.compat.v1.get_variable(
        "wide_orthogonal", [3, 6], initializer=tf.compat.v1.orthogonal_initializer()
    )
    tf.compat.v1.get_variable("counts", initializer=tf.constant([1, 2, 3], dtype=tf.int64))
    tf.compat.v1.get_variable("vocabulary", initializer=tf.constant(["a", "bc"]))
    tf.compat.v1.get_variable(
        "half", [3], dtype=tf.bfloat16, initializer=tf.compat.v1.zeros_initializer()
    )


HONEST = [
    dense_with_resource_variables,
    trained_with_adam,
    batch_norm_trained_with_momentum,
    partitioned_orthogonal_int_string_and_bfloat16,
]


@pytest.mark.parametrize("make", HONEST)
def test_honest_graphs_pass(tmp_path, make):
    assert honest_graph(tmp_path, make) == []


def seed_refusals(built, meta_graph):
    """The guard's refusals of the seed's graph as restore checks it, with the inference
    check's forward pass."""
    prefix = str(built / "ckpt" / "model.ckpt")
    return checks.refusals(
        meta_graph,
        outputs=["conv_3/BiasAdd:0"],
        fed_shapes={network.INPUT: (4, *network.INPUT_SHAPE[1:])},
        budget=graph_sizes.budget(tfgraph.checkpoint_keys(prefix)),
    )


def test_the_seed_model_passes(built):
    meta_graph = importing.read_meta_graph(built / "ckpt" / "model.ckpt.meta")
    assert seed_refusals(built, meta_graph) == []


def test_the_inference_checks_forward_pass_is_guarded_too(built, tmp_path):
    """The network's own forward ops are allowed to the inference check; a write on its path
    is refused, and only there."""
    meta = tmp_path / "model.ckpt.meta"
    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(str(built / "ckpt" / "model.ckpt.meta"))
        write = tf.io.write_file(str(tmp_path / "written.txt"), "x", name="crafted_write")
        graph.get_operation_by_name("conv_3/BiasAdd")._add_control_input(write)
        tf.compat.v1.train.export_meta_graph(str(meta))
    meta_graph = importing.read_meta_graph(meta)
    assert checks.refusals(meta_graph) == []
    (found,) = seed_refusals(built, meta_graph)
    assert found == "conv_3/BiasAdd <- crafted_write: WriteFile writes files"


def test_an_initializer_that_draws_no_random_number_is_constant():
    with tf.Graph().as_default() as graph:
        tf.compat.v1.get_variable("zeros", [3], initializer=tf.compat.v1.zeros_initializer())
        tf.compat.v1.get_variable(
            "seeded", [3], initializer=tf.compat.v1.glorot_uniform_initializer(seed=1)
        )
        tf.compat.v1.Variable(tf.random.stateless_uniform([3], seed=[1, 2]), name="stateless")
        tf.compat.v1.Variable(tf.fill([3], 2.0) * 3.0, name="computed")
        meta_graph = tf.compat.v1.train.export_meta_graph(graph=graph)
    assert initializer_facts.constant_initializers(meta_graph) == ["computed", "zeros"]


def matmul_in_a_function():
    """A graph whose output is a function's MatMul of the fed input and a constant: its size is
    known only from the call's arguments."""
    with tf.Graph().as_default() as graph:
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")

        @tf.function
        def forward(x):
            return tf.matmul(x, tf.ones([3, 1000]))

        tf.identity(forward(x), name="y")
        return tf.compat.v1.train.export_meta_graph(graph=graph)


@pytest.mark.parametrize(
    ("fed", "found"),
    [
        ((2, 3), None),
        (None, "MatMul of a size not known before it runs"),
        ((100_000, 3), "MatMul of 400,000,000 bytes, over the budget"),
    ],
)
def test_a_functions_sizes_are_checked_with_what_its_call_gives_it(fed, found):
    budget = graph_sizes.Budget(tensor=2**26, total=2**27)
    fed_shapes = {"x:0": fed} if fed else {}
    refused = checks.refusals(matmul_in_a_function(), (), ["y:0"], fed_shapes, budget)
    if found is None:
        assert refused == []
    else:
        assert found in refused[0], refused


def swappable_for_a_write(meta_graph, directory):
    """3. The initializer calls Honest, which declares an interface (api_implements) on a
    device; the library also holds Evil, which writes, declaring the same interface on the
    CPU: TensorFlow's optimizer may run Evil in Honest's place."""
    honest_function = function_def("Honest", [const_node("z", 0.0)], "z:output:0")
    swapped = evil(directory / "written.txt")
    for function, device in ((honest_function, b"GPU"), (swapped, b"CPU")):
        function.attr["api_implements"].s = b"lookup_interface"
        function.attr["api_preferred_device"].s = device
    meta_graph.graph_def.library.function.extend([honest_function, swapped])
    depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list("Honest")))


def test_no_function_the_optimizer_may_swap_in_is_imported(tmp_path):
    """3. Unguarded, TensorFlow runs Evil in Honest's place. The part of the graph the audit
    imports holds Honest without its interface, and no Evil: the restore runs Honest."""
    prefix = edited(tmp_path, swappable_for_a_write)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.train.import_meta_graph(f"{prefix}.meta")
        sess.run("v/Assign")
    assert written(tmp_path / "written.txt")
    (tmp_path / "written.txt").unlink()
    meta_graph = importing.read_meta_graph(f"{prefix}.meta")
    imported = importing.importable(meta_graph).graph_def.library.function
    assert [(f.signature.name, list(f.attr)) for f in imported] == [("Honest", [])]
    run_restore(settings(INIT_ONLY), prefix, tmp_path / "out")
    assert (tmp_path / "out").is_dir()
    assert not written(tmp_path / "written.txt")


def calls_doubling(depth):
    """4. F_k calls F_(k-1) twice, F_0 gives 0: F_depth runs F_0 2**depth times."""

    def edit(meta_graph, _):
        library = meta_graph.graph_def.library.function
        library.append(function_def("F_0", [const_node("z", 0.0)], "z:output:0"))
        for k in range(1, depth + 1):
            first, second = (call_node(n, name_attr_list(f"F_{k - 1}")) for n in ("a", "b"))
            first.input.append("^b")
            library.append(function_def(f"F_{k}", [first, second], "a:output:0"))
        depends_on(meta_graph, "v/Assign", call_node("p", name_attr_list(f"F_{depth}")))

    return edit


def test_calls_are_counted_as_tensorflow_makes_them(tmp_path, capsys):
    """4. Depth 30 is 2**30 calls, each function checked once: refused in one line, and
    quickly (the count is linear in the calls); depth 10 is 2,047 calls, and passes."""
    prefix = edited(tmp_path / "deep", calls_doubling(30))
    error = assert_refused(tmp_path, capsys, prefix, INIT_ONLY)
    assert "F_0: function calls multiply to over 100,000 (F_0 alone over 100,000 times)" in error
    shallow = edited(tmp_path / "shallow", calls_doubling(10))
    assert checks.refusals(importing.read_meta_graph(f"{shallow}.meta")) == []


def test_an_index_declaring_strings_its_data_cannot_hold_is_refused(tmp_path):
    """5. A string key's elements each take a byte of the data file at least: an index
    declaring 127**5 of them in a small file is refused (it would make the budget terabytes)."""
    prefix = crafted(tmp_path, honest)
    keys = tfgraph.checkpoint_keys(prefix)
    with pytest.raises(ValueError, match="truncated"):
        tfgraph.check_declared_sizes(prefix, {**keys, "vocabulary": ((127,) * 5, "string")})
    honest_strings = str(tmp_path / "strings" / "model.ckpt")
    with tf.Graph().as_default():
        words = tf.compat.v1.get_variable("words", initializer=tf.constant(["", "a", "bc"]))
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(words.initializer)
            tf.compat.v1.train.Saver().save(sess, honest_strings, write_meta_graph=False)
    assert tfgraph.checkpoint_keys(honest_strings)["words"] == ((3,), "string")


def crc32c(data):
    """CRC-32C (Castagnoli), as a checkpoint index's blocks are checksummed."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    """A block trailer's checksum: the CRC rotated and offset (leveldb's mask)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def forged_index(index, honest, forged):
    """Replace the bytes `honest` with `forged` (as long) in the first block of the checkpoint
    index `index`, and make its checksum match again: the block ends where the checksum of
    what comes before it (and its type byte) is the one its trailer holds."""
    data = bytearray(index.read_bytes())
    at = data.index(honest)
    end = next(
        n
        for n in range(at + len(honest), len(data) - 4)
        if masked(crc32c(data[: n + 1])) == int.from_bytes(data[n + 1 : n + 5], "little")
    )
    data[at : at + len(forged)] = forged
    data[end + 1 : end + 5] = masked(crc32c(data[: end + 1])).to_bytes(4, "little")
    index.write_bytes(bytes(data))


def test_a_forged_index_is_refused_before_it_sets_the_budget(tmp_path, capsys):
    """5. A string variable of shape [1]*5 in an honest checkpoint, its index's shape forged to
    [127]*5 (each size one byte either way, the block's checksum made to match): TensorFlow
    reads the forged shape, which would make the budget terabytes; restore refuses the
    checkpoint in one line, and writes nothing."""
    prefix = str(tmp_path / "model.ckpt")
    with tf.Graph().as_default() as graph:
        words = tf.compat.v1.get_variable("words", initializer=tf.constant([[[[["a"]]]]]))
        with session(graph, 1) as sess:
            sess.run(words.initializer)
            tf.compat.v1.train.Saver().save(sess, prefix)
    one, many = b"\x12\x02\x08\x01" * 5, b"\x12\x02\x08\x7f" * 5
    forged_index(Path(f"{prefix}.index"), one, many)
    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map()["words"] == [127] * 5
    declared = {"words": ((127,) * 5, "string")}
    assert graph_sizes.budget(declared).total > 10**12
    with pytest.raises(SystemExit):
        run_restore(settings(INIT_ONLY), prefix, tmp_path / "out")
    error = capsys.readouterr().err.strip().splitlines()[-1]
    data = f"{prefix}.data-00000-of-00001"
    assert error == f"error: {data}: truncated (shorter than its index says)", error
    assert not (tmp_path / "out").exists()


def test_every_allowed_op_has_a_size_rule():
    """8. An op the guard allows without a size rule would be of unknown size: refused."""
    allowed = op_table.ALLOWED | op_table.FORWARD_ALLOWED
    assert allowed - graph_sizes.SIZE_RULES == set()


def test_a_warm_start_from_a_checkpoint_elsewhere_is_refused_naming_it(tmp_path, capsys):
    """A training graph whose initializers read another checkpoint (init_from_checkpoint, a
    warm start): the one line names the checkpoint they read and where the others are."""
    source = str(tmp_path / "warm" / "source.ckpt")
    with tf.Graph().as_default():
        variables = [honest_variable(), tf.compat.v1.get_variable("w", [2])]
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run([variable.initializer for variable in variables])
            tf.compat.v1.train.Saver().save(sess, source, write_meta_graph=False)

    def warm_started():
        honest_variable()
        tf.compat.v1.get_variable("w", [2])
        tf.compat.v1.train.init_from_checkpoint(source, {"v": "v", "w": "w"})

    prefix = crafted(tmp_path, warm_started)
    error = assert_refused(tmp_path, capsys, prefix, RESTORE_ONLY)
    assert f"RestoreV2 reads a checkpoint other than the one restored: {source!r}" in error
    assert "(and 1 more, in the step's log)" in error
