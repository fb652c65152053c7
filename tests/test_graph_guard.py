"""The guard on untrusted graphs: crafted `.meta` files are refused before any of their ops
runs, honest ones pass. Each crafted graph would write a file if it ran; the test checks the
file was never written."""

import json

import pytest

from ckptorder import graph_guard, orderings
from ckptorder.tfsession import session, tf
from conftest import run_restore

INIT_THEN_RESTORE = orderings.ordering_of("initialize_all", "restore_all")
RESTORE_ONLY = orderings.ordering_of("restore_all")
INIT_ONLY = orderings.ordering_of("initialize_all")


def settings(*ordering_names, trust=False):
    return json.dumps(
        {
            "checkpoint": "crafted",
            "orderings": list(ordering_names),
            "partial_variables": None,
            "trust": trust,
            "output_tensor": None,
        }
    )


def honest_variable():
    return tf.compat.v1.get_variable("v", [2, 2], initializer=tf.compat.v1.zeros_initializer())


def after(op):
    """The zeros `v` starts from, computed only once `op` has run."""
    with tf.control_dependencies([op]):
        return tf.identity(tf.zeros([2, 2]))


def write_to(target):
    return tf.io.write_file(str(target), "written")


def crafted(directory, make, saver_def=None):
    """A checkpoint of `v` saved from an honest graph, beside the `.meta` file of the graph
    that `make` builds, which never runs here. Returns the prefix."""
    prefix = str(directory / "model.ckpt")
    with tf.Graph().as_default():
        variable = honest_variable()
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
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_crafted_graph_is_refused_before_it_runs(tmp_path, capsys, case):
    make, ordering = REFUSED[case]
    target = tmp_path / "written.txt"
    prefix = crafted(tmp_path, lambda: make(target))
    with pytest.raises(SystemExit) as exit_:
        run_restore(settings(ordering), prefix, tmp_path / "out")
    assert exit_.value.code == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: {prefix}.meta: refused, restoring would run ")
    assert "set trust: true only for a checkpoint you trust" in error
    assert not written(target) and not (tmp_path / "out").exists()


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


def test_the_message_names_the_path_to_the_op(tmp_path):
    prefix = crafted(tmp_path, lambda: write_in_initializer(tmp_path / "written.txt"))
    meta_graph = graph_guard.read_meta_graph(prefix + ".meta")
    found = graph_guard.refusals(meta_graph, orderings.steps(INIT_ONLY))
    assert len(found) == 1
    assert found[0].startswith("v/Assign <- ")
    assert found[0].endswith("<- WriteFile: WriteFile writes files")


def test_a_function_is_named_in_the_path(tmp_path):
    prefix = crafted(tmp_path, lambda: write_in_function_of_function(tmp_path / "w.txt"))
    meta_graph = graph_guard.read_meta_graph(prefix + ".meta")
    (found,) = graph_guard.refusals(meta_graph, orderings.steps(INIT_ONLY))
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

    meta_graph = graph_guard.read_meta_graph(crafted(tmp_path, restore_own_prefix) + ".meta")
    (found,) = graph_guard.refusals(meta_graph, orderings.steps(INIT_THEN_RESTORE))
    assert found.endswith("RestoreV2: RestoreV2 reads a checkpoint other than the one restored")


def test_an_op_no_ordering_reaches_is_no_reason_to_refuse(tmp_path):
    target = tmp_path / "written.txt"

    def unreached_write():
        honest_variable()
        write_to(target)

    prefix = crafted(tmp_path, unreached_write)
    # partial_restore left out: it needs partial_variables, and its ops are the others' ops
    ordering_names = [o for o in orderings.ORDERINGS if "restore_partial" not in orderings.steps(o)]
    output = run_restore(settings(*ordering_names), prefix, tmp_path / "out")
    assert sorted(p.stem for p in output.glob("*.npz")) == sorted(orderings.states(ordering_names))
    assert not written(target)


def honest_graph(directory, make):
    """A checkpoint and `.meta` file of the graph `make` builds, saved straight after
    initialisation; returns the steps' refusals for every ordering."""
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(1)  # build's tests turn on op determinism, process-wide
        make()
        saver = tf.compat.v1.train.Saver()
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            saver.save(sess, str(directory / "model.ckpt"))
    meta_graph = graph_guard.read_meta_graph(directory / "model.ckpt.meta")
    return {o: graph_guard.refusals(meta_graph, orderings.steps(o)) for o in orderings.ORDERINGS}


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


@pytest.mark.parametrize("make", [dense_with_resource_variables, trained_with_adam])
def test_honest_graphs_pass(tmp_path, make):
    assert honest_graph(tmp_path, make) == {o: [] for o in orderings.ORDERINGS}


def test_the_seed_model_passes(built):
    meta_graph = graph_guard.read_meta_graph(built / "ckpt" / "model.ckpt.meta")
    for ordering in orderings.ORDERINGS:
        assert graph_guard.refusals(meta_graph, orderings.steps(ordering)) == [], ordering


def test_the_inference_checks_forward_pass_is_guarded_too(built, tmp_path):
    """The network's own forward ops are allowed to the inference check; a write on its path
    is refused, and only there."""
    meta = tmp_path / "model.ckpt.meta"
    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(str(built / "ckpt" / "model.ckpt.meta"))
        write = tf.io.write_file(str(tmp_path / "written.txt"), "x", name="crafted_write")
        graph.get_operation_by_name("conv_3/BiasAdd")._add_control_input(write)
        tf.compat.v1.train.export_meta_graph(str(meta))
    meta_graph = graph_guard.read_meta_graph(meta)
    steps = orderings.steps(INIT_ONLY)
    assert graph_guard.refusals(meta_graph, steps) == []
    (found,) = graph_guard.refusals(meta_graph, steps, outputs=["conv_3/BiasAdd:0"])
    assert found == "conv_3/BiasAdd <- crafted_write: WriteFile writes files"
    original = graph_guard.read_meta_graph(built / "ckpt" / "model.ckpt.meta")
    assert graph_guard.refusals(original, steps, outputs=["conv_3/BiasAdd:0"]) == []
