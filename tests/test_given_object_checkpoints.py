"""TF2 checkpoints as users' code writes them (`tf2_checkpoints.py`, in processes of their
own). An entry names one by its prefix. Without a model, load_object_checkpoint.py lists its
keys with their object paths; with one (code: it runs only where trusted), each ordering
restores the checkpoint into what the model's function builds, and what each leaves is what
its steps predict. tf.train.Checkpoint matches objects, not names: a Keras kernel the
checkpoint keeps under the optimizer's path is matched to the model's own. A model of other
shapes or names is reported (shape_mismatch, a suggested key); damaged files and broken models
end in one line, leaving nothing behind."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ckptorder import compatibility, configuration, orderings
from ckptorder.tfsession import tf
from ckptorder.values import Values
from conftest import config_with, flip_byte, run_script
from tf2_checkpoints import KINDS

TESTS = Path(__file__).parent
MODELS = TESTS / "tf2_checkpoints.py"
ORDERINGS = list(orderings.GIVEN_OBJECT_CKPT.orderings)
# The model each kind of checkpoint is restored into, as its writer built it.
OWN_MODEL = {"keras_with_optimizer": "keras_model", "module": "dense_as_net"}
STEPS_SOURCE = {orderings.RESTORED: "saved", orderings.REINITIALIZED: "initial"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each kind of TF2 checkpoint `tf2_checkpoints.py` writes: its prefix, by kind."""
    folder = tmp_path_factory.mktemp("tf2_checkpoints")
    prefixes = {}
    for kind in KINDS:
        wrote = subprocess.run(
            [sys.executable, MODELS, kind, folder / kind / "ckpt"],
            check=True,
            capture_output=True,
            text=True,
        )
        prefixes[kind] = wrote.stdout.strip()
    return prefixes


def model(function):
    return f"{MODELS}:{function}"


def entry_settings(entry):
    checked = configuration.checked(config_with({"name": "mine", **entry}))
    return next(c for c in checked["checkpoints"] if c["name"] == "mine")


def test_a_tf2_checkpoint_without_its_model_is_listed_and_its_orderings_skipped(written):
    entry = entry_settings({"prefix": written["module"]})
    assert entry["format"] == "object_ckpt" and not entry["built"]
    assert entry["orderings"] == [] and entry["skipped"] == ORDERINGS


def test_a_trusted_model_runs_every_ordering(written):
    entry = entry_settings(
        {"prefix": written["module"], "model": model("dense_as_net"), "trust": True}
    )
    assert entry["orderings"] == ORDERINGS and entry["skipped"] == []


CONFIG_ERRORS = {
    "untrusted model": (
        {"model": model("dense_as_net")},
        "config error: checkpoints[1].model: {model} is code the run executes: give trust: true"
        " (for code you trust), or leave model out to list the checkpoint's objects alone",
    ),
    "missing model file": (
        {"model": "nowhere/model.py:build", "trust": True},
        "config error: checkpoints[1].model: nowhere/model.py: no such file",
    ),
    "a probe": (
        {"probes": [{"tensor": "net/kernel", "slice": "[0]"}]},
        "config error: checkpoints[1].probes: not for a TF2 checkpoint, which is restored every"
        " way that applies into its model and reported; give name, prefix, model and trust",
    ),
}


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_a_tf2_entrys_mistake_is_one_line(written, case):
    given, line = CONFIG_ERRORS[case]
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with({"name": "mine", "prefix": written["module"], **given}))
    assert str(error.value) == line.format(model=given.get("model"))


def test_a_model_is_for_a_tf2_checkpoint_alone(built):
    prefix = str(built / "ckpt" / "model.ckpt")
    entry = {"name": "mine", "prefix": prefix, "model": model("dense_as_net"), "trust": True}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with(entry))
    assert str(error.value) == (
        f"config error: checkpoints[1].model: for a TF2 checkpoint (tf.train.Checkpoint's"
        f" files), which {prefix} is not"
    )


def audit(prefix, output, function=None, states=()):
    """load_object_checkpoint.py on `prefix`, restoring into `function` of tf2_checkpoints.py."""
    settings = {
        "checkpoint": "mine",
        "orderings": list(states),
        "model": model(function) if function else None,
        "trust": True,
    }
    return run_script(
        "load_object_checkpoint", settings=json.dumps(settings), checkpoint=prefix, output=output
    )


def facts(folder):
    return json.loads((folder / "graph.json").read_text())


def test_without_a_model_every_key_is_listed_with_its_object_paths(written, tmp_path):
    prefix = written["keras_with_optimizer"]
    assert audit(prefix, tmp_path / "values").returncode == 0
    rows = {row["key"]: row for row in facts(tmp_path / "values")["compatibility"]}
    reader = tf.train.load_checkpoint(prefix)
    keys = [key for key in reader.get_variable_to_shape_map() if not key.startswith("_")]
    assert sorted(rows) == sorted(key.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE") for key in keys)
    assert {row["status"] for row in rows.values()} == {compatibility.NEEDS_MODEL}
    # Keras keeps the kernel under the optimizer's path, the first a walk of the graph finds.
    kernel = rows["optimizer/_trainable_variables/0"]
    assert kernel["object_paths"].split() == [
        "model/_operations/1/_kernel",
        "optimizer/_trainable_variables/0",
    ]
    assert kernel["checkpoint_shape"] == "[4, 5]" and kernel["checkpoint_dtype"] == "float32"
    with Values(tmp_path / "values" / "saved.npz") as saved:
        for key in keys:
            name = key.removesuffix("/.ATTRIBUTES/VARIABLE_VALUE")
            assert saved.equals(name, reader.get_tensor(key)), name


def predicted_sources(state, names, saved):
    """What each variable's values should be after `state`, by its steps: `saved` or
    `initial` (each variable's last write)."""
    expected = orderings.expected_outcomes(state, names, (), saved=saved)
    return {name: STEPS_SOURCE[outcome] for name, outcome in expected.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_restored_into_its_model_each_ordering_leaves_what_its_steps_predict(
    written, tmp_path, kind
):
    output = tmp_path / "values"
    assert audit(written[kind], output, OWN_MODEL[kind], ORDERINGS).returncode == 0
    with Values(output / "saved.npz") as saved, Values(output / "initial.npz") as initial:
        names, matched = initial.names, saved.names
        alike = {n for n in matched if initial.equals(n, saved.read(n))}
    assert matched == names  # every variable of its own model is in the checkpoint
    for state in ORDERINGS:
        with Values(output / f"{state}.npz") as held:
            left = {name: held.source(name) for name in names}
        for name, source in predicted_sources(state, names, set(matched)).items():
            # A value saved as it was initialised (the learning rate) shows as saved either way.
            assert left[name] == source or name in alike, (state, name, left[name])
    checks = json.loads((output / "assertions.json").read_text())
    if kind == "keras_with_optimizer":  # the optimizer's moments stay unrestored
        warned = {state: checks[state][orderings.UNRESTORED_WARNING] for state in ORDERINGS}
        silenced = "tf2.expect_partial_initialize_or_restore"
        assert warned == {s: orderings.SILENT if s == silenced else orderings.WARNS for s in warned}
        kernel = next(
            r for r in facts(output)["compatibility"] if r["variable"].endswith("_kernel")
        )
        assert kernel["key"].startswith("optimizer/_trainable_variables/")
    else:
        assert all(checks[s]["assert_consumed"] == orderings.PASSES for s in ORDERINGS)


def test_a_model_named_otherwise_gets_the_keys_it_would_take(written, tmp_path):
    output = tmp_path / "values"
    assert audit(written["module"], output, "dense_as_model", ORDERINGS).returncode == 0
    rows = {row["variable"]: row for row in facts(output)["compatibility"] if row["variable"]}
    assert {name: (row["status"], row["suggested_key"]) for name, row in rows.items()} == {
        "model/kernel": ("missing_in_checkpoint", "net/kernel"),
        "model/bias": ("missing_in_checkpoint", "net/bias"),
    }
    for state in ORDERINGS:  # nothing matched: initialised, whatever the order
        with Values(output / f"{state}.npz") as held:
            assert {held.source(name) for name in rows} == {"initial"}, state


def test_a_model_of_other_shapes_is_reported_not_a_traceback(written, tmp_path):
    output = tmp_path / "values"
    audited = audit(written["keras_with_optimizer"], output, "wider_keras_model", ORDERINGS)
    assert audited.returncode == 0, audited.stderr
    statuses = {r["variable"]: r["status"] for r in facts(output)["compatibility"] if r["variable"]}
    assert sorted(statuses.values()).count("shape_mismatch") == 3
    with Values(output / "tf2.eager_create_then_restore.npz") as eager:
        assert eager.failed.startswith("ValueError: Received incompatible tensor with shape (4, 5)")


def broken_model(folder):
    path = folder / "broken.py"
    path.write_text("def build():\n    return undefined_name\n")
    return f"{path}:build"


def damaged(written, folder, damage):
    """A copy of the module checkpoint, damaged by `damage` (given its index and data)."""
    source = Path(written["module"])
    for path in source.parent.glob(f"{source.name}.*"):
        (folder / path.name).write_bytes(path.read_bytes())
    prefix = folder / source.name
    damage(Path(f"{prefix}.index"), Path(f"{prefix}.data-00000-of-00001"))
    return str(prefix)


BROKEN = {
    "model raises": lambda w, f: (w["module"], broken_model(f), "NameError: name 'undefined"),
    "no such function": lambda w, f: (w["module"], f"{MODELS}:nothing", "defines no function"),
    "damaged data": lambda w, f: (
        damaged(w, f, lambda index, data: flip_byte(data)),
        None,
        "checksum mismatch (the file is damaged)",
    ),
    "truncated data": lambda w, f: (
        damaged(w, f, lambda index, data: data.write_bytes(data.read_bytes()[:10])),
        None,
        "truncated (shorter than its index says)",
    ),
    "damaged index": lambda w, f: (
        damaged(w, f, lambda index, data: index.write_bytes(index.read_bytes()[:-20])),
        None,
        "not a checkpoint index",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_model_or_file_is_one_line_and_leaves_nothing(written, tmp_path, case):
    prefix, function, words = BROKEN[case](written, tmp_path)
    settings = {
        "checkpoint": "mine",
        "orderings": ORDERINGS if function else [],
        "model": function,
        "trust": True,
    }
    output = tmp_path / "values"
    ran = run_script(
        "load_object_checkpoint", settings=json.dumps(settings), checkpoint=prefix, output=output
    )
    assert ran.returncode == 1
    [line] = ran.stderr.strip().splitlines()
    assert line.startswith("error: checkpoint mine: ") and words in line, line
    assert prefix in line or (function or "").split(":")[0] in line, line
    assert not output.exists()
