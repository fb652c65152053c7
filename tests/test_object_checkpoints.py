"""TF2's object-based checkpoint: export.py writes the built model with tf.train.Checkpoint,
load.py runs every ordering of OBJECT_ORDERINGS, each in a process of its own (TF2's behaviour
can't be turned on in a process that has run TF1 graphs, as these tests' process has). What
each ordering leaves, what each status check gives and the inference check are
TensorFlow's, read from the run."""

import json

import pytest

from ckptorder import network, orderings, step_settings
from ckptorder.formats import object_ckpt
from ckptorder.object_network import EXTRA_VARIABLE
from ckptorder.values import ASSERTIONS_FILE, INFERENCE, Values
from conftest import run_script


@pytest.fixture(scope="module")
def object_ckpt_folders(built, config, tmp_path_factory):
    """export's and load's folders of the built checkpoint as object_ckpt."""
    folder = tmp_path_factory.mktemp("object_ckpt")
    entry = next(c for c in config["checkpoints"] if c["format"] == "object_ckpt")
    prefix = built / "ckpt" / "model.ckpt"
    exported = run_script(
        "export",
        settings=step_settings.export_settings(config, entry),
        checkpoint=prefix,
        output=folder / "exported",
    )
    assert exported.returncode == 0, exported.stderr
    loaded = run_script(
        "load",
        settings=step_settings.loading_settings(config, entry),
        checkpoint=prefix,
        exported=folder / "exported",
        output=folder / "values",
        inference=built / "ckpt" / "inference.npz",
    )
    assert loaded.returncode == 0, loaded.stderr
    return entry, folder


def test_export_saves_the_network_alone_and_with_its_optimizer(object_ckpt_folders):
    """tf.train.Checkpoint keys each variable by its path from the root object; the training
    checkpoint holds Adam's slots and its own variables too."""
    _, folder = object_ckpt_folders
    from ckptorder.tfsession import tf

    alone = tf.train.latest_checkpoint(str(folder / "exported" / "model"))
    keys = {key for key, _ in tf.train.list_variables(alone)}
    model = {f"model/{name}/.ATTRIBUTES/VARIABLE_VALUE" for name in network.variable_shapes()}
    own = {"save_counter/.ATTRIBUTES/VARIABLE_VALUE", "_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert keys == model | own
    training = tf.train.latest_checkpoint(str(folder / "exported" / "model_and_optimizer"))
    keys = {key for key, _ in tf.train.list_variables(training)}
    assert model < keys
    assert "optimizer/beta1_power/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "model/conv_1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE" in keys


def outcome(state, name):
    if state.failed:
        return orderings.FAILED
    return {"saved": "restored", "initial": "reinitialized"}.get(state.source(name), "changed")


def test_each_ordering_leaves_what_its_steps_say(object_ckpt_folders):
    entry, folder = object_ckpt_folders
    saved = list(network.variable_shapes())
    for ordering in entry["orderings"]:
        with Values(folder / "values" / f"{ordering}.npz") as state:
            expected = orderings.expected_outcomes(ordering, state.names, [], saved=saved)
            assert {name: outcome(state, name) for name in state.names} == expected, ordering
    extra = "model.initialize_or_restore_extra_variable"
    with Values(folder / "values" / f"{extra}.npz") as state:
        assert state.names == [*saved, EXTRA_VARIABLE]


def test_the_status_checks_give_what_the_docs_explain(object_ckpt_folders):
    _, folder = object_ckpt_folders
    found = json.loads((folder / "values" / ASSERTIONS_FILE).read_text())
    assert found == {
        name: dict(zip(object_ckpt.STATUS_CHECKS, ordering.status, strict=True))
        for name, ordering in object_ckpt.ORDERINGS.items()
    }


def test_expect_partial_only_silences_the_warning(object_ckpt_folders):
    """tensorflow#21156: a training checkpoint restored without its optimizer, with and without
    status.expect_partial(): the same values and assertion results; only TensorFlow's warning
    of the optimizer's unrestored values is gone."""
    _, folder = object_ckpt_folders
    found = json.loads((folder / "values" / ASSERTIONS_FILE).read_text())
    plain, partial = (
        found[f"model_and_optimizer.{load}"]
        for load in ("initialize_or_restore", "expect_partial_initialize_or_restore")
    )
    warned = plain.pop(object_ckpt.UNRESTORED_WARNING), partial.pop(object_ckpt.UNRESTORED_WARNING)
    assert warned == (object_ckpt.WARNS, object_ckpt.SILENT)
    assert plain == partial
    paths = [
        folder / "values" / f"model_and_optimizer.{load}.npz"
        for load in ("initialize_or_restore", "expect_partial_initialize_or_restore")
    ]
    references = {r: folder / "values" / f"{r}.npz" for r in orderings.REFERENCES}
    with (
        Values(paths[0], references) as plain_values,
        Values(paths[1], references) as partial_values,
    ):
        assert plain_values.names == partial_values.names
        for name in plain_values.names:
            assert partial_values.equals(name, plain_values.read(name)), name


def test_a_tf1_checkpoint_read_by_name_in_graph_mode_lacks_the_save_counter(object_ckpt_folders):
    _, folder = object_ckpt_folders
    with Values(folder / "values" / "tf1_saver.initialize_or_restore.npz") as state:
        assert state.failed == "NotFoundError: Key save_counter not found in checkpoint"


def test_the_output_is_the_saved_models_bit_for_bit_where_the_network_is_restored(
    object_ckpt_folders,
):
    """The tf.Module's output, in graph and in eager mode, is the TF1 graph's bit for bit."""
    entry, folder = object_ckpt_folders
    checks = json.loads((folder / "values" / INFERENCE).read_text())
    assert list(checks) == sorted(entry["orderings"])
    network_variables = list(network.variable_shapes())
    for ordering, outputs in checks.items():
        (check,) = outputs.values()
        expected = orderings.expected_outcomes(ordering, network_variables, [])
        restored = set(expected.values()) == {"restored"}
        assert check["bit_equal"] == restored, ordering
