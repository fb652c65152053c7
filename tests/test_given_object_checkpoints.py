"""TF2 checkpoints as users' code writes them (`tf2_checkpoints.py`, in processes of their
own), and a TF1 one against TF2 code. An entry names one by its prefix. Without a model,
load_object_checkpoint.py lists a TF2 checkpoint's keys with their object paths; with one
(code: it runs only where trusted), each ordering restores the checkpoint into what the
model's function builds, and what each leaves is what its steps predict. tf.train.Checkpoint
matches a TF2 checkpoint's objects, not names: a Keras kernel the checkpoint keeps under the
optimizer's path is matched to the model's own; a TF1 checkpoint's by name, which no Keras 3
variable has. A model of other shapes or names is reported (shape_mismatch, a suggested key);
damaged files and broken models end in one line, leaving nothing behind."""

import json
from pathlib import Path

import pandas as pd
import pytest

import verify
from ckptorder import compatibility, configuration, given_object_checkpoints, orderings
from ckptorder.formats import given_object_ckpt, object_ckpt
from ckptorder.given_object_checkpoints import ATTACH_NEEDS_NAMES
from ckptorder.tfsession import tf
from ckptorder.values import Values
from conftest import config_with, flip_byte, run_script, write_kinds
from tf2_checkpoints import KINDS

TESTS = Path(__file__).parent
MODELS = TESTS / "tf2_checkpoints.py"
ORDERINGS = given_object_ckpt.variant_orderings("tf2")
TF1_ORDERINGS = given_object_ckpt.variant_orderings("tf1")
# The model each kind of checkpoint is restored into, as its writer built it, and the
# orderings that apply.
OWN_MODEL = {
    "keras_with_optimizer": ("keras_model", ORDERINGS),
    "module": ("dense_as_net", ORDERINGS),
    "tf1_dense": ("scoped_module", TF1_ORDERINGS),
}
STEPS_SOURCE = {orderings.RESTORED: "saved", orderings.REINITIALIZED: "initial"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Each kind of TF2 checkpoint `tf2_checkpoints.py` writes: its prefix, by kind."""
    folder = tmp_path_factory.mktemp("tf2_checkpoints")
    return write_kinds(MODELS, {kind: folder / kind / "ckpt" for kind in KINDS})


def model(function):
    return f"{MODELS}:{function}"


def entry_settings(entry):
    checked = configuration.checked(config_with({"name": "mine", **entry}))
    return next(c for c in checked["checkpoints"] if c["name"] == "mine")


def test_a_load_no_code_carries_out_is_an_error_not_another_load(monkeypatch):
    """Each ordering's `run` is carried out as written: one no code carries out (here the
    built network's restore before it exists, which a user's model cannot do) raises, where a
    table of names once fell back silently on another load."""
    restore_first = object_ckpt.ORDERINGS["model.eager_restore_then_create"]
    monkeypatch.setitem(given_object_ckpt.ORDERINGS, "tf2.eager_restore_then_create", restore_first)
    with pytest.raises(TypeError, match="carries out"):
        given_object_checkpoints.run_ordering("tf2.eager_restore_then_create", None, None, 1)


def test_a_tf2_checkpoint_without_its_model_is_listed_and_its_orderings_skipped(written):
    entry = entry_settings({"prefix": written["module"]})
    assert entry["format"] == "object_ckpt" and not entry["built"]
    assert entry["orderings"] == [] and entry["skipped"] == ORDERINGS


def test_a_checkpoint_managers_folder_is_one_entry_per_checkpoint(written, tmp_path):
    source = Path(written["module"])
    for step in (1, 2):
        for path in source.parent.glob(f"{source.name}.*"):
            (tmp_path / path.name.replace(source.name, f"ckpt-{step}")).write_bytes(
                path.read_bytes()
            )
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-1"\n'
        'all_model_checkpoint_paths: "ckpt-2"\n'
    )
    checked = configuration.checked(config_with({"name": "run", "prefix": str(tmp_path)}))
    entries = [c for c in checked["checkpoints"] if c["run"] == "run"]
    assert [(e["name"], e["step"], e["format"]) for e in entries] == [
        ("run-1", 1, "object_ckpt"),
        ("run-2", 2, "object_ckpt"),
    ]


def test_a_trusted_model_runs_every_ordering_reported_or_judged_as_asked(written):
    given = {"prefix": written["module"], "model": model("dense_as_net"), "trust": True}
    entry = entry_settings(given)
    assert entry["orderings"] == ORDERINGS and entry["skipped"] == []
    assert entry["expected"] is None  # reported, not judged
    assert entry_settings({**given, "expected": {}})["expected"] == {}
    with pytest.raises(configuration.ConfigError) as error:
        entry_settings({**given, "expected": {"restore_only": "restored"}})
    assert str(error.value).startswith(
        "config error: checkpoints[1].expected.restore_only: not an ordering checkpoint mine runs"
    )


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
        "config error: checkpoints[1].probes: not for a checkpoint restored into a model (a TF2"
        " checkpoint, or one given a model), which is restored every way that applies; give"
        " name, prefix, model, trust and expected",
    ),
}


@pytest.mark.parametrize("case", CONFIG_ERRORS)
def test_a_tf2_entrys_mistake_is_one_line(written, case):
    given, line = CONFIG_ERRORS[case]
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config_with({"name": "mine", "prefix": written["module"], **given}))
    assert str(error.value) == line.format(model=given.get("model"))


def test_a_tf1_checkpoint_given_a_model_is_restored_into_it_by_name(written):
    entry = entry_settings(
        {"prefix": written["tf1_dense"], "model": model("scoped_module"), "trust": True}
    )
    assert entry["format"] == "object_ckpt" and entry["orderings"] == TF1_ORDERINGS


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


def assert_steps_predict(output, states):
    """Each state in `output` left each variable what its steps predict: the saved value, the
    initial one, or, where they fail, nothing."""
    with Values(output / "saved.npz") as saved, Values(output / "initial.npz") as initial:
        names, matched = initial.names, set(saved.names)
        alike = {n for n in matched if initial.equals(n, saved.read(n))}
    for state in states:
        predicted = orderings.expected_outcomes(state, names, (), saved=matched)
        with Values(output / f"{state}.npz") as held:
            if set(predicted.values()) == {orderings.FAILED}:
                assert held.failed, state
                continue
            for name, outcome in predicted.items():
                # A value saved as it was initialised (the learning rate) shows as saved.
                source = held.source(name)
                assert source == STEPS_SOURCE[outcome] or name in alike, (state, name, source)


@pytest.mark.parametrize("kind", KINDS)
def test_restored_into_its_model_each_ordering_leaves_what_its_steps_predict(
    written, tmp_path, kind
):
    output = tmp_path / "values"
    function, states = OWN_MODEL[kind]
    assert audit(written[kind], output, function, states).returncode == 0
    with Values(output / "saved.npz") as saved, Values(output / "initial.npz") as initial:
        assert saved.names == initial.names  # every variable of its own model is in it
    assert_steps_predict(output, states)
    checks = json.loads((output / "assertions.json").read_text())
    if kind == "keras_with_optimizer":  # the optimizer's moments stay unrestored
        warned = {state: checks[state][object_ckpt.UNRESTORED_WARNING] for state in ORDERINGS}
        silenced = "tf2.expect_partial_initialize_or_restore"
        assert warned == {
            s: object_ckpt.SILENT if s == silenced else object_ckpt.WARNS for s in warned
        }
        kernel = next(
            r for r in facts(output)["compatibility"] if r["variable"].endswith("_kernel")
        )
        assert kernel["key"].startswith("optimizer/_trainable_variables/")
        # The optimizer's moments are keys no variable of the model takes: the answer says so.
        compatible = pd.DataFrame(facts(output)["compatibility"]).assign(checkpoint="mine")
        [line] = verify.restored_into_nothing(compatible)
        unused = (compatible["status"] == "unused_key").sum()
        assert line.startswith(f"mine: {unused} of its checkpoint's keys were restored into")
        assert line.endswith("build it in the model's function to restore them")
    else:
        # A name-based restore into an empty Checkpoint matches nothing: it fails its
        # assertions, and the model built after it keeps its initial values.
        consumed = {s: checks[s]["assert_consumed"] == object_ckpt.PASSES for s in states}
        assert consumed == {s: s != "tf1.eager_restore_then_attach" for s in states}


def test_a_keras_3_model_takes_nothing_of_a_tf1_checkpoint_by_name(written, tmp_path):
    output = tmp_path / "values"
    assert audit(written["tf1_dense"], output, "keras_model", TF1_ORDERINGS).returncode == 0
    rows = facts(output)["compatibility"]
    assert {r["status"] for r in rows if r["variable"]} == {"missing_in_checkpoint"}
    assert {r["key"] for r in rows if r["status"] == "unused_key"} >= {"hidden/kernel"}
    assert_steps_predict(output, TF1_ORDERINGS)
    with Values(output / "tf1.initialize_or_restore.npz") as graph_mode:
        assert graph_mode.failed == "NotFoundError: Key VARIABLE_VALUE not found in checkpoint"


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


def test_a_model_of_one_trackable_cannot_be_attached_after_the_restore(written, tmp_path):
    """Restoring before the model exists attaches its objects to an empty Checkpoint by name:
    a function that returns one trackable (the Checkpoint's root) has none; that ordering
    fails saying so, the others run."""
    output = tmp_path / "values"
    assert audit(written["module"], output, "dense_alone", ORDERINGS).returncode == 0
    for state in ORDERINGS:
        with Values(output / f"{state}.npz") as held:
            attach = state == "tf2.eager_restore_then_attach"
            assert (held.failed == ATTACH_NEEDS_NAMES) == attach, (state, held.failed)


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
