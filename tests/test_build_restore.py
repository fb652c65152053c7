"""build.py and restore.py on the real TensorFlow, in-process."""

import pytest

import build
import network
from conftest import ORDERINGS, OUTCOMES, run_restore
from tfsession import tf
from values import Values, bitwise_equal

# The state a restore job finds a variable equal to, for each outcome.
SOURCE_OF = {"restored": "saved", "reinitialized": "initial"}


def test_build_writes_the_checkpoint_and_both_states(built):
    names = sorted(p.name for p in (built / "ckpt").iterdir())
    assert names == [
        "checkpoint",
        "model.ckpt.data-00000-of-00001",
        "model.ckpt.index",
        "model.ckpt.meta",
    ]
    assert 'model_checkpoint_path: "model.ckpt"' in (built / "ckpt" / "checkpoint").read_text()
    with Values(built / "saved.npz") as saved, Values(built / "initial.npz") as initial:
        assert saved.names == initial.names == list(network.variable_shapes())
        for name, shape in network.variable_shapes().items():
            assert saved.read(name).shape == shape
            # Training moved every variable away from what an initializer gives.
            assert not bitwise_equal(saved.read(name), initial.read(name)), name
        reader = tf.train.load_checkpoint(str(built / "ckpt" / "model.ckpt"))
        for name in network.variable_shapes():
            assert bitwise_equal(reader.get_tensor(name), saved.read(name))


def test_the_meta_graph_has_the_seed_probe_tensor(built):
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(str(built / "ckpt" / "model.ckpt.meta"))
    assert graph.get_tensor_by_name("conv_1/kernel/read:0").shape == (3, 3, 3, 32)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_each_ordering_ends_where_its_steps_say(built, tmp_path, ordering):
    output = tmp_path / f"{ordering}.npz"
    run_restore(ordering, built / "ckpt" / "model.ckpt", built, output)
    with Values(output) as state:
        sources = {name: state.source(name) for name in state.names}
    if ordering == "partial_restore":
        assert sources == {
            name: "saved" if name.startswith("conv_1/") else "initial"
            for name in network.variable_shapes()
        }
    else:
        assert set(sources.values()) == {SOURCE_OF[OUTCOMES[ordering]]}


def test_unknown_ordering_is_one_clear_line(built, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_restore("restore_twice", built / "ckpt" / "model.ckpt", built, tmp_path / "x.npz")
    assert exit_.value.code == 1
    assert "unknown ordering 'restore_twice'; allowed: init_then_restore" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_diverging_training_fails_naming_the_step_and_leaves_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        build.main(
            [
                "--settings",
                '{"learning_rate": 1e30, "steps": 5}',
                "--checkpoint",
                str(tmp_path / "ckpt" / "model.ckpt"),
                "--initial",
                str(tmp_path / "initial.npz"),
                "--saved",
                str(tmp_path / "saved.npz"),
            ]
        )
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "train.learning_rate 1e+30 is too large" in err
    assert "at step" in err or "after training" in err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == []


def test_training_is_deterministic(built, tmp_path):
    build.main(
        [
            "--checkpoint",
            str(tmp_path / "model.ckpt"),
            "--initial",
            str(tmp_path / "initial.npz"),
            "--saved",
            str(tmp_path / "saved.npz"),
        ]
    )
    for name in ("saved.npz", "initial.npz"):
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes()
    for suffix in (".index", ".data-00000-of-00001"):
        ours = (tmp_path / f"model.ckpt{suffix}").read_bytes()
        assert ours == (built / "ckpt" / f"model.ckpt{suffix}").read_bytes()


def test_a_widened_model_builds_and_restores(tmp_path):
    prefix = str(tmp_path / "model.ckpt")
    build.main(
        [
            "--settings",
            '{"extra_layers": [8, 16], "steps": 1}',
            "--checkpoint",
            prefix,
            "--initial",
            str(tmp_path / "initial.npz"),
            "--saved",
            str(tmp_path / "saved.npz"),
        ]
    )
    run_restore("partial_restore", prefix, tmp_path, tmp_path / "partial.npz")
    references = {"initial": tmp_path / "initial.npz"}
    with Values(tmp_path / "partial.npz", references) as state:
        assert state.names[-2:] == ["conv_5/kernel", "conv_5/bias"]
        assert state.source("conv_1/kernel") == "saved"
        assert state.source("conv_5/kernel") == "initial"
        assert state.shape("conv_5/kernel") == (3, 3, 8, 16)
