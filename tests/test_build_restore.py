"""build.py and restore.py on the real TensorFlow, in-process."""

import json

import pytest

from ckptorder import formats, network, orderings, step_settings
from ckptorder.formats import ckpt
from ckptorder.tfsession import tf
from ckptorder.values import Values, bitwise_equal
from conftest import run_build, run_restore

# The state a restore job finds a variable equal to, for each outcome.
SOURCE_OF = {"restored": "saved", "reinitialized": "initial"}
PARTIAL = next(o for o in ckpt.ORDERINGS if "restore_partial" in orderings.steps(o))


def with_changes(settings, **changes):
    return json.dumps({**json.loads(settings), **changes})


def test_build_writes_the_checkpoint(built):
    names = sorted(p.name for p in (built / "ckpt").iterdir())
    assert names == [
        "checkpoint",
        "inference.npz",
        "model.ckpt.data-00000-of-00001",
        "model.ckpt.index",
        "model.ckpt.meta",
    ]
    assert 'model_checkpoint_path: "model.ckpt"' in (built / "ckpt" / "checkpoint").read_text()
    reader = tf.train.load_checkpoint(str(built / "ckpt" / "model.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    for name, shape in network.variable_shapes().items():
        assert tuple(shapes[name]) == shape
    with Values(built / "ckpt" / "inference.npz") as reference:
        assert reference.shape("input") == (2, *network.INPUT_SHAPE[1:])
        assert reference.shape("output") == network.output_shape(2)


def test_the_meta_graph_has_the_seed_probe_tensor(built):
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(str(built / "ckpt" / "model.ckpt.meta"))
    assert graph.get_tensor_by_name("conv_1/kernel/read:0").shape == (3, 3, 3, 32)


def test_the_references_are_the_files_values_and_the_graphs_initial_ones(built, audited):
    reader = tf.train.load_checkpoint(str(built / "ckpt" / "model.ckpt"))
    with Values(audited / "saved.npz") as saved, Values(audited / "initial.npz") as initial:
        assert saved.names == initial.names == list(network.variable_shapes())
        for name in network.variable_shapes():
            assert bitwise_equal(reader.get_tensor(name), saved.read(name))
            # Training moved every variable away from what an initializer gives.
            assert not bitwise_equal(saved.read(name), initial.read(name)), name


@pytest.mark.parametrize("ordering", ckpt.BUILT_ORDERINGS)
def test_each_ordering_ends_where_its_steps_say(audited, seed_entry, ordering):
    """TensorFlow's real outcome, variable by variable, is the one the ordering's last write
    gives: what orderings.py predicts and the report expects."""
    partial, names = seed_entry["partial_variables"], list(network.variable_shapes())
    # Every variable of the seed's graph is in its checkpoint under its own name.
    expected = orderings.expected_outcomes(ordering, names, partial, mapped=names)
    with Values(audited / f"{ordering}.npz") as state:
        sources = {name: state.source(name) for name in state.names}
        assert state.failed is None
    assert sources == {name: SOURCE_OF[outcome] for name, outcome in expected.items()}


def test_unknown_ordering_is_one_clear_line(built, seed_entry, tmp_path, capsys):
    settings = with_changes(step_settings.restore_settings(seed_entry), orderings=["restore_twice"])
    with pytest.raises(SystemExit) as exit_:
        run_restore(settings, built / "ckpt" / "model.ckpt", tmp_path / "out")
    assert exit_.value.code == 1
    assert "unknown ordering(s) restore_twice; allowed: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_partial_restore_of_variables_the_graph_lacks_names_the_checkpoint(
    built, seed_entry, tmp_path, capsys
):
    settings = with_changes(
        step_settings.restore_settings(seed_entry),
        orderings=[PARTIAL],
        partial_variables=["x"],
        output_tensor=None,
    )
    with pytest.raises(SystemExit):
        run_restore(settings, built / "ckpt" / "model.ckpt", tmp_path / "out")
    err = capsys.readouterr().err
    assert "partial_restore.variables of checkpoint seed: ['x'] are not variables" in err
    assert "it has: conv_1/kernel, conv_1/bias" in err
    assert list(tmp_path.iterdir()) == []


def test_diverging_training_fails_naming_the_step_and_leaves_nothing(config, tmp_path):
    settings = with_changes(step_settings.build_settings(config), learning_rate=1e30, steps=5)
    finished = run_build(settings, tmp_path, check=False)
    assert finished.returncode == 1
    err = finished.stderr
    assert "train.learning_rate 1e+30 is too large" in err
    assert "at step" in err or "after training" in err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []


def test_training_is_deterministic(built, config, tmp_path):
    run_build(step_settings.build_settings(config), tmp_path)
    for suffix in (".index", ".data-00000-of-00001"):
        ours = (tmp_path / "ckpt" / f"model.ckpt{suffix}").read_bytes()
        assert ours == (built / "ckpt" / f"model.ckpt{suffix}").read_bytes()


def test_a_widened_model_builds_and_restores(config, seed_entry, tmp_path):
    settings = with_changes(step_settings.build_settings(config), extra_layers=[8, 16], steps=1)
    run_build(settings, tmp_path)
    output = run_restore(
        with_changes(
            step_settings.restore_settings(seed_entry),
            orderings=[PARTIAL],
            output_tensor=network.output_tensor([8, 16]),
        ),
        tmp_path / "ckpt" / "model.ckpt",
        tmp_path / "values",
        inference=tmp_path / "ckpt" / "inference.npz",
    )
    references = {"initial": output / "initial.npz"}
    with Values(output / f"{PARTIAL}.npz", references) as state:
        assert state.names[-2:] == ["conv_5/kernel", "conv_5/bias"]
        assert state.source("conv_1/kernel") == "saved"
        assert state.source("conv_5/kernel") == "initial"
        assert state.shape("conv_5/kernel") == (3, 3, 8, 16)


@pytest.mark.parametrize("suffix", [".index", ".data-00000-of-00001", ".meta"])
def test_restore_names_a_missing_checkpoint_file(built, seed_entry, tmp_path, capsys, suffix):
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    for path in (built / "ckpt").iterdir():
        if not path.name.endswith(suffix):
            (checkpoint / path.name).write_bytes(path.read_bytes())
    output = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        run_restore(step_settings.restore_settings(seed_entry), checkpoint / "model.ckpt", output)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    missing = "model.ckpt.data-*-of-*" if suffix.startswith(".data") else f"model.ckpt{suffix}"
    assert f"checkpoint file(s) missing: {checkpoint}/{missing}" in err
    assert not output.exists()


def test_a_made_up_ordering_is_one_entry_in_its_formats_module(
    monkeypatch, built, seed_entry, tmp_path
):
    """An ordering of existing steps added to `formats.ckpt` alone runs, and leaves what its
    steps say: restore carries out any ordering's steps, so nothing else names it."""
    made_up = formats.Ordering(
        ("initialize_all", "restore_all", "initialize_uninitialized"),
        "the initializers, Saver.restore, then the initializers of what is still uninitialized",
    )
    monkeypatch.setitem(ckpt.ORDERINGS, "made_up", made_up)
    settings = with_changes(step_settings.restore_settings(seed_entry), orderings=["made_up"])
    run_restore(
        settings,
        built / "ckpt" / "model.ckpt",
        tmp_path,
        inference=built / "ckpt" / "inference.npz",
    )
    names = list(network.variable_shapes())
    assert orderings.expected_outcomes("made_up", names, []) == dict.fromkeys(names, "restored")
    with Values(tmp_path / "made_up.npz") as state:
        assert [state.source(name) for name in names] == ["saved"] * len(names)
