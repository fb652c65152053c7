"""The built model as a SavedModel and as a frozen GraphDef: export.py writes every variant,
load.py loads each under every ordering of its format, in-process on the real TensorFlow;
what each ordering leaves is what its steps say, and the inference check holds."""

import json
import shutil

import pytest

import export
import load
from ckptorder import formats, orderings, step_settings
from ckptorder.formats import savedmodel
from ckptorder.values import GRAPH_FACTS, INFERENCE, Values
from conftest import add_a_write_to_an_initializer, flip_byte, run_script


def options(**values):
    return [arg for key, value in values.items() for arg in (f"--{key}", str(value))]


@pytest.fixture(scope="module", params=["savedmodel", "frozen_pb"])
def loaded(request, built, config, tmp_path_factory):
    """load.py's folder of one format of the built checkpoint, every ordering."""
    format_ = request.param
    folder = tmp_path_factory.mktemp(format_)
    prefix = built / "ckpt" / "model.ckpt"
    entry = next(c for c in config["checkpoints"] if c["format"] == format_)
    export.main(
        options(
            settings=step_settings.export_settings(config, entry),
            checkpoint=prefix,
            output=folder / "exported",
        )
    )
    load.main(
        options(
            settings=step_settings.loading_settings(config, entry),
            checkpoint=prefix,
            exported=folder / "exported",
            output=folder / "values",
            inference=built / "ckpt" / "inference.npz",
        )
    )
    return entry, folder


def test_export_writes_every_variant(loaded):
    entry, folder = loaded
    written = sorted(path.name for path in (folder / "exported").iterdir())
    expected = {
        "savedmodel": ["main_op", "main_op_with_restore", "no_init_op"],
        "frozen_pb": ["after_restore.pb", "after_restore_then_init.pb"],
    }
    assert written == expected[entry["format"]]


def outcome(state, name):
    """What a values file says of a variable: its source state, failed or uninitialized."""
    if state.failed:
        return orderings.FAILED
    return {"saved": "restored", "initial": "reinitialized", "own": "changed"}.get(
        state.source(name), state.source(name)
    )


def test_each_ordering_leaves_what_its_steps_say(loaded):
    entry, folder = loaded
    values = folder / "values"
    facts = json.loads((values / GRAPH_FACTS).read_text())
    for ordering in entry["orderings"]:
        with Values(values / f"{ordering}.npz") as state:
            expected = orderings.expected_outcomes(
                ordering, state.names or list(facts["random"]), [], random=facts["random"]
            )
            assert {name: outcome(state, name) for name in expected} == expected, ordering


def test_the_output_is_the_saved_models_bit_for_bit_where_every_variable_is_restored(loaded):
    entry, folder = loaded
    checks = json.loads((folder / "values" / INFERENCE).read_text())
    assert list(checks) == sorted(entry["orderings"])
    for ordering, outputs in checks.items():
        (check,) = outputs.values()
        restored = set(orderings.expected_outcomes(ordering, ["v"], []).values()) == {"restored"}
        assert check["bit_equal"] == restored, ordering
        if restored:
            assert check["max_abs_diff"] == 0.0


@pytest.mark.parametrize("loaded", ["savedmodel"], indirect=True)
def test_main_op_with_restore_is_refused_and_trusted_fails_where_its_restore_runs(
    loaded, built, config, tmp_path
):
    """Its init op runs the Saver's restore on the Saver's default file, not the SavedModel's
    variables: the guard refuses that; trusted, TensorFlow finds no such file."""
    entry, folder = loaded
    failing = "main_op_with_restore.loader_load"
    with Values(folder / "values" / f"{failing}.npz") as state:
        assert state.failed.startswith("refused by the guard: ")
        assert state.failed.endswith(
            "save/RestoreV2: RestoreV2 reads a checkpoint other than the one restored: 'model'"
        )
    with Values(folder / "values" / "main_op_with_restore.load_v2_restore.npz") as state:
        assert {state.source(name) for name in state.names} == {"saved"}
    settings = {**json.loads(step_settings.loading_settings(config, entry)), "trust": True}
    load.main(
        options(
            settings=json.dumps({**settings, "orderings": [failing]}),
            checkpoint=built / "ckpt" / "model.ckpt",
            exported=folder / "exported",
            output=tmp_path / "trusted",
            inference=built / "ckpt" / "inference.npz",
        )
    )
    with Values(tmp_path / "trusted" / f"{failing}.npz") as state:
        assert state.failed == (
            "NotFoundError: Unsuccessful TensorSliceReader constructor: Failed to find any"
            " matching files for model"
        )


def test_load_names_an_ordering_its_format_lacks(capsys, tmp_path):
    settings = {
        "checkpoint": "seed.frozen_pb",
        "format": "frozen_pb",
        "seed": 42,
        "extra_layers": [],
        "orderings": ["main_op.loader_load"],
        "output_tensor": "conv_3/BiasAdd:0",
        "trust": False,
    }
    with pytest.raises(SystemExit):
        load.main(
            options(
                settings=json.dumps(settings),
                checkpoint="x",
                exported="y",
                output=tmp_path / "out",
                inference="z",
            )
        )
    err = capsys.readouterr().err
    assert "unknown ordering(s) main_op.loader_load; allowed: after_restore.import_graph_def" in err
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_graph_whose_initializers_write_a_file(built, config, tmp_path, capsys):
    """Freezing after the initializers runs them: the guard checks the graph first."""
    for path in (built / "ckpt").glob("model.ckpt.*"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    target = tmp_path / "written.txt"
    add_a_write_to_an_initializer(tmp_path / "model.ckpt.meta", target)
    entry = next(c for c in config["checkpoints"] if c["format"] == "frozen_pb")
    with pytest.raises(SystemExit):
        export.main(
            options(
                settings=step_settings.export_settings(config, entry),
                checkpoint=tmp_path / "model.ckpt",
                output=tmp_path / "exported",
            )
        )
    assert "crafted_write: WriteFile writes files" in capsys.readouterr().err
    assert not target.exists() and not (tmp_path / "exported").exists()


@pytest.mark.parametrize("format_", ["savedmodel", "object_ckpt"])
def test_export_of_a_damaged_checkpoint_names_the_file_and_writes_nothing(
    built, config, tmp_path, format_
):
    for path in (built / "ckpt").glob("model.ckpt.*"):
        shutil.copy(path, tmp_path)
    data = tmp_path / "model.ckpt.data-00000-of-00001"
    flip_byte(data)
    entry = next(c for c in config["checkpoints"] if c["format"] == format_)
    exported = run_script(
        "export",
        settings=step_settings.export_settings(config, entry),
        checkpoint=tmp_path / "model.ckpt",
        output=tmp_path / "exported",
    )
    assert exported.returncode == 1
    assert exported.stderr.splitlines()[-1] == (
        f"error: {data}: checksum mismatch (the file is damaged)"
    )
    assert not (tmp_path / "exported").exists()


@pytest.mark.parametrize("loaded", ["savedmodel"], indirect=True)
def test_a_made_up_load_is_one_entry_in_its_formats_module(
    monkeypatch, loaded, built, config, tmp_path
):
    """A load added to `formats.savedmodel` alone, the built loads' calls in another order
    (the init op, then the restore), runs as its `run` says and leaves what its steps say:
    the variant `main_op`'s initializers, then the restore, leave every variable restored,
    where the same calls in the other order leave it reinitialized."""
    tables_then_restore = formats.Ordering(
        (formats.VARIANT_STEPS, "restore_all"),
        "tf.saved_model.load in graph mode, tables_initializer(), then the restore",
        run=savedmodel.LoadV2(("tables", "restore")),
    )
    made_up = formats.exported_orderings(
        {"main_op": savedmodel.VARIANTS["main_op"]}, {"made_up": tables_then_restore}
    )
    for name, ordering in made_up.items():
        monkeypatch.setitem(savedmodel.FORMAT.orderings, name, ordering)
    entry, folder = loaded
    settings = json.loads(step_settings.loading_settings(config, entry))
    load.main(
        options(
            settings=json.dumps({**settings, "orderings": ["main_op.made_up"]}),
            checkpoint=built / "ckpt" / "model.ckpt",
            exported=folder / "exported",
            output=tmp_path / "values",
            inference=built / "ckpt" / "inference.npz",
        )
    )
    with Values(tmp_path / "values" / "main_op.made_up.npz") as state:
        names = state.names
        assert state.failed is None and {outcome(state, name) for name in names} == {"restored"}
    expected = orderings.expected_outcomes("main_op.made_up", names, [])
    assert set(expected.values()) == {"restored"}
    other_order = orderings.expected_outcomes("main_op.load_v2_restore_then_tables", names, [])
    assert set(other_order.values()) == {"reinitialized"}
