"""The config check: every mistake one clear line naming the setting and what is allowed; a
good config made whole; each step's settings what its script takes."""

import json
import os

import pytest
import yaml

from ckptorder import checkpoint_files, configuration, entries, orderings, step_settings
from ckptorder.atomic import write_if_changed
from ckptorder.cli import load_settings
from ckptorder.formats import ckpt
from conftest import PROJECT, project_config


def raw_config():
    return project_config()


def set_key(*path_and_value):
    *path, value = path_and_value

    def change(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def probe(tensor=None, slice_=None):
    entry = {k: v for k, v in (("tensor", tensor), ("slice", slice_)) if v is not None}
    return set_key("probes", [entry])


ALLOWED_ORDERINGS = f"allowed: all, or a list of {', '.join(ckpt.ORDERINGS)}"
FIRST, SECOND = list(ckpt.ORDERINGS)[:2]
CASES = {
    "unknown top-level key": (
        set_key("sed", 1),
        ["(top level): unknown key(s) sed", "allowed: checkpoints, seed"],
    ),
    "misspelt nested key": (
        lambda c: c["train"].update(step=c["train"].pop("steps")),
        ["train: unknown key(s) step; allowed: steps, learning_rate"],
    ),
    "unknown ordering": (
        set_key("orderings", [FIRST, "restore_twice"]),
        ["orderings[1]: 'restore_twice' is not allowed", ALLOWED_ORDERINGS],
    ),
    "orderings neither all nor a list": (
        set_key("orderings", "everything"),
        ["orderings: 'everything' is not allowed", ALLOWED_ORDERINGS],
    ),
    "empty orderings": (set_key("orderings", []), ["orderings: [] should be non-empty"]),
    "duplicate ordering": (
        set_key("orderings", [FIRST, FIRST]),
        ["orderings:", "has non-unique elements"],
    ),
    "seed not an integer": (set_key("seed", "abc"), ["seed: 'abc' is not of type 'integer'"]),
    "seed a float": (set_key("seed", 4.0), ["seed: 4.0 is not of type 'integer'"]),
    "time limit not positive": (
        set_key("time_limit", 0),
        ["time_limit: 0 is less than or equal to the minimum of 0"],
    ),
    "seed negative": (set_key("seed", -1), ["seed: -1 is less than the minimum of 0"]),
    "seed too large": (
        set_key("seed", 2**31 - 1),
        ["seed: 2147483647 is greater than the maximum of 2147483646"],
    ),
    "steps zero": (set_key("train", "steps", 0), ["train.steps: 0 is less than the minimum of 1"]),
    "steps negative": (set_key("train", "steps", -3), ["train.steps: -3 is less than the minimum"]),
    "steps not an integer": (
        set_key("train", "steps", 2.5),
        ["train.steps: 2.5 is not of type 'integer'"],
    ),
    "learning rate zero": (
        set_key("train", "learning_rate", 0),
        ["train.learning_rate: 0 is less than or equal to the minimum of 0"],
    ),
    "learning rate negative": (
        set_key("train", "learning_rate", -0.1),
        ["train.learning_rate: -0.1 is less than or equal to the minimum of 0"],
    ),
    "probe without tensor": (probe(slice_="[0]"), ["probes[0]: 'tensor' is a required property"]),
    "probe without slice": (
        probe(tensor="conv_1/kernel"),
        ["probes[0]: 'slice' is a required property"],
    ),
    "slice unclosed": (probe("conv_1/kernel", "[1, :, :"), ["probes[0]: slice '[1, :, :'"]),
    "slice not a number": (probe("conv_1/kernel", "[a]"), ["cannot read 'a'", "allowed are"]),
    "slice code": (probe("conv_1/kernel", "__import__('os')"), ["must be written in brackets"]),
    "slice too many indices": (
        probe("conv_1/bias", "[1, 2]"),
        ["has 2 indices but the tensor has 1 dimensions (shape [32])"],
    ),
    "index out of range": (
        probe("conv_1/kernel", "[3, :, :, 1]"),
        ["index 3 is out of range for axis 0 of size 3 (allowed -3..2)"],
    ),
    "step of zero": (probe("conv_1/kernel", "[::0]"), ["step of '::0' must not be 0"]),
    "unknown tensor": (
        probe("conv_9/kernel", "[0]"),
        ["tensor 'conv_9/kernel' is not in the model; it has: conv_1/kernel, conv_1/bias"],
    ),
    "a tensor of an extra layer without the layer": (
        probe("conv_4/kernel", "[0]"),
        ["tensor 'conv_4/kernel' is not in the model"],
    ),
    "the same probe twice": (
        set_key("probes", [{"tensor": "conv_1/bias", "slice": "[0]"}] * 2),
        ["probes[1]: probes conv_1/bias [0] twice"],
    ),
    "unknown partial variable": (
        set_key("partial_restore", "variables", ["conv_1/weights"]),
        ["partial_restore.variables: 'conv_1/weights' is not a variable of the model"],
    ),
    "expected word not allowed": (
        set_key("expected", {FIRST: "wiped"}),
        [f"expected.{FIRST}: 'wiped' is not allowed", "restored, reinitialized, changed"],
    ),
    "expected for an ordering not run": (
        lambda c: c.update(orderings=[FIRST], expected={SECOND: "changed"}),
        [f"expected.{SECOND}: not an ordering checkpoint seed runs"],
    ),
    "expected for a variable the model lacks": (
        set_key("expected", {FIRST: {"conv_9/bias": "changed"}}),
        [f"expected.{FIRST}.conv_9/bias: not a variable of the model"],
    ),
    "a checkpoint name with a slash": (
        set_key("checkpoints", [{"name": "../x", "build": True}]),
        ["checkpoints[0].name: '../x' does not match"],
    ),
    "a checkpoint name twice": (
        lambda c: c["checkpoints"].append({"name": "seed", "prefix": "x/model.ckpt"}),
        ["checkpoints: the name 'seed' is given twice"],
    ),
    "a checkpoint without prefix or build": (
        set_key("checkpoints", [{"name": "mine"}]),
        ["checkpoints[0]: give either prefix (a checkpoint on disk) or build: true"],
    ),
    "build twice": (
        lambda c: c["checkpoints"].append({"name": "again", "build": True}),
        ["checkpoints: build: true is given twice"],
    ),
    "a graph for the built checkpoint": (
        set_key("checkpoints", [{"name": "seed", "build": True, "graph": "x.meta"}]),
        ["checkpoints[0].graph: not for build: true, the model the pipeline builds, whose graph"],
    ),
    "a checkpoint that is not on disk": (
        lambda c: c["checkpoints"].append({"name": "mine", "prefix": "nowhere/model.ckpt"}),
        [
            "checkpoints[1]: mine: no such file(s): nowhere/model.ckpt.index,"
            " nowhere/model.ckpt.meta, nowhere/model.ckpt.data-*-of-*"
        ],
    ),
    "a folder that is no training run": (
        lambda c: c["checkpoints"].append({"name": "mine", "prefix": str(PROJECT / "docs")}),
        [f"checkpoints[1].prefix: {PROJECT / 'docs'} is a folder without a 'checkpoint' state"],
    ),
    "an unknown ordering of a checkpoint": (
        lambda c: c["checkpoints"][0].update(orderings=["restore_twice"]),
        ["checkpoints[0].orderings[0]: 'restore_twice' is not allowed", ALLOWED_ORDERINGS],
    ),
    "an unknown format": (
        set_key("formats", ["ckpt", "onnx"]),
        ["formats: ['ckpt', 'onnx'] is not allowed; allowed: all, or a list of ckpt"],
    ),
    "a name one of the built model's formats takes": (
        lambda c: c["checkpoints"].append({"name": "seed.savedmodel", "prefix": "x/model.ckpt"}),
        ["checkpoints: the name 'seed.savedmodel' is given twice", "NAME.FORMAT"],
    ),
    "a checkpoint's own probe of a variable the model lacks": (
        lambda c: c["checkpoints"][0].update(probes=[{"tensor": "dense/kernel", "slice": "[0]"}]),
        ["checkpoints[0].probes[0]: tensor 'dense/kernel' is not in the model"],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_mistake_is_one_clear_line(case):
    change, words = CASES[case]
    config = raw_config()
    change(config)
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config)
    message = str(error.value)
    assert all(line.startswith("config error: ") for line in message.splitlines())
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def test_every_mistake_is_reported_at_once():
    config = raw_config()
    config.update(seed=-1, orderings=["restore_twice"])
    config["train"]["steps"] = 0
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config)
    assert len(error.value.problems) == 3


def test_the_default_config_runs_every_ordering_in_their_order(config):
    assert config["orderings"] == list(ckpt.ORDERINGS)
    assert config["expected"] == {}


def test_a_config_without_expected_expects_each_orderings_own():
    config = raw_config()
    del config["expected"]
    assert configuration.checked(config)["expected"] == {}


def test_an_extra_layer_can_be_probed():
    config = raw_config()
    config["model"]["extra_layers"] = [8]
    config["probes"] = [{"tensor": "conv_4/kernel", "slice": "[0, 0, 0, :]"}]
    assert configuration.checked(config)["probes"] == config["probes"]


def test_each_step_takes_the_settings_the_config_gives_it(config, seed_entry):
    """What configuration.py gives each step is what the step checks its --settings against
    (its class in step_settings.py), for every step that takes settings."""
    exported = next(e for e in config["checkpoints"] if e["format"] == "savedmodel")
    given = [
        (step_settings.BuildSettings, step_settings.build_settings(config)),
        (step_settings.ExportSettings, step_settings.export_settings(config, exported)),
        (step_settings.ExtractSettings, step_settings.extract_settings(seed_entry)),
        (step_settings.LoadSettings, step_settings.loading_settings(config, exported)),
        (step_settings.ReportSettings, step_settings.report_settings(config)),
        (step_settings.RestoreSettings, step_settings.restore_settings(seed_entry)),
    ]
    for taken, settings in given:
        assert load_settings(settings, taken) == json.loads(settings), taken


def test_a_setting_the_step_does_not_take_fails_when_the_snakefile_loads(config):
    """The config's settings reach a step through its class: a key the class lacks is an error
    where configuration.py builds them, not when the step runs."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'momentum'"):
        step_settings.build_settings({**config, "train": {**config["train"], "momentum": 0.9}})


def test_settings_in_a_file_are_read_from_it_and_a_bad_one_is_one_line(config, tmp_path):
    """The rules give each step its settings in a file (@PATH), rewritten only where they
    change: its time then stays, and the job does not rerun."""
    text = step_settings.build_settings(config)
    path = tmp_path / "settings" / "build.json"
    assert write_if_changed(path, text) == path
    written = path.stat().st_mtime_ns
    os.utime(path, ns=(written - 10**9, written - 10**9))
    write_if_changed(path, text)
    assert path.stat().st_mtime_ns == written - 10**9
    assert load_settings(f"@{path}", step_settings.BuildSettings) == json.loads(text)
    with pytest.raises(ValueError, match=f"^--settings {tmp_path}/none.json: No such file"):
        load_settings(f"@{tmp_path}/none.json", step_settings.BuildSettings)
    path.write_text("{")
    with pytest.raises(ValueError, match=f"^{path} is not valid JSON"):
        load_settings(f"@{path}", step_settings.BuildSettings)


def test_settings_are_one_value_with_sorted_keys(config):
    """The same settings must give the same text: the file holding them is rewritten, and its
    job rerun, only where the text changes."""
    shuffled = {key: config[key] for key in reversed(list(config))}
    assert step_settings.report_settings(shuffled) == step_settings.report_settings(config)


def test_only_a_partial_ordering_is_given_the_partial_variables(seed_entry):
    """So that changing them reruns no restore job that does not use them."""
    without = [o for o in ckpt.ORDERINGS if "restore_partial" not in orderings.steps(o)]
    for names, partial in (
        (list(ckpt.ORDERINGS), seed_entry["partial_variables"]),
        (without, None),
    ):
        settings = step_settings.restore_settings({**seed_entry, "orderings": names})
        assert json.loads(settings)["partial_variables"] == partial


def test_a_checkpoint_from_outside_takes_the_top_level_settings_but_the_built_models(built):
    """Not the top-level probes and partial_restore, which name the built model's variables:
    without its own, an entry skips the partial restore and is audited by whole variables."""
    config = raw_config()
    prefix = str(built / "ckpt" / "model.ckpt")
    config["trust"] = True
    config["checkpoints"] += [
        {"name": "mine", "prefix": prefix},
        {"name": "gated", "prefix": prefix, "graph": f"{prefix}.meta", "expected": {}},
        {"name": "own", "prefix": prefix, "orderings": [FIRST], "trust": False},
    ]
    config["checkpoints"][-1]["probes"] = [{"tensor": "x", "slice": "[0]"}]
    seed, *_, mine, gated, own = configuration.checked(config)["checkpoints"]
    assert seed["built"] and seed["prefix"] == entries.BUILT_PREFIX
    assert seed["expected"] == {}
    assert not mine["built"] and mine["graph"] == f"{prefix}.meta"
    needing = [o for o in ckpt.ORDERINGS if orderings.needed_settings(o)]
    assert mine["orderings"] == [o for o in ckpt.ORDERINGS if o not in needing]
    assert mine["skipped"] == needing and mine["partial_variables"] is None
    assert seed["orderings"] == ckpt.BUILT_ORDERINGS and seed["skipped"] == []
    assert mine["probes"] == [] and mine["trust"] is True
    assert mine["expected"] is None, "reported, not judged"
    assert gated["expected"] == {}
    assert own["orderings"] == [FIRST] and own["trust"] is False and own["skipped"] == []
    assert own["probes"] == [{"tensor": "x", "slice": "[0]"}], "checked by names, not here"
    verify = json.loads(step_settings.verify_settings(configuration.checked(config)))
    assert verify == {
        "outside": ["mine", "gated", "own"],
        "skipped": dict.fromkeys(["mine", "gated"], needing),
    }


def test_an_outside_entry_that_names_a_partial_restore_ordering_needs_its_variables(built):
    config = raw_config()
    prefix = str(built / "ckpt" / "model.ckpt")
    partial = next(o for o in ckpt.ORDERINGS if "restore_partial" in orderings.steps(o))
    config["checkpoints"] += [{"name": "mine", "prefix": prefix, "orderings": [partial]}]
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config)
    assert error.value.problems == [
        f"checkpoints[1].orderings: {partial} needs checkpoints[1].partial_restore.variables (the"
        " variables that ordering's Saver restores); give it, or leave the ordering out"
    ]


AVERAGES = "restore_moving_averages"


def test_an_outside_entry_restores_moving_averages_only_when_it_names_them(built):
    """The ordering needs the ExponentialMovingAverage's name: without it, it is skipped, or,
    named in the entry's orderings, a config error; with it, restore alone is given it."""
    config = raw_config()
    prefix = str(built / "ckpt" / "model.ckpt")
    config["checkpoints"] += [
        {"name": "plain", "prefix": prefix},
        {"name": "averaged", "prefix": prefix, "moving_averages": "ExponentialMovingAverage"},
    ]
    _, *_, plain, averaged = configuration.checked(config)["checkpoints"]
    assert AVERAGES in plain["skipped"] and AVERAGES not in plain["orderings"]
    assert AVERAGES in averaged["orderings"] and AVERAGES not in averaged["skipped"]
    restore = json.loads(step_settings.restore_settings(averaged))
    assert restore["moving_averages"] == "ExponentialMovingAverage"
    others = {**averaged, "orderings": [FIRST]}
    assert json.loads(step_settings.restore_settings(others))["moving_averages"] is None
    names = json.loads(step_settings.names_settings(averaged))
    assert names["moving_averages"] == "ExponentialMovingAverage"
    config["checkpoints"][-1] = {"name": "named", "prefix": prefix, "orderings": [AVERAGES]}
    with pytest.raises(configuration.ConfigError) as error:
        configuration.checked(config)
    assert error.value.problems == [
        f"checkpoints[2].orderings: {AVERAGES} needs checkpoints[2].moving_averages (the name of"
        " the ExponentialMovingAverage whose shadow values that ordering restores); give it, or"
        " leave the ordering out"
    ]


def test_a_run_folder_is_read_from_itself_whatever_paths_its_state_file_lists(tmp_path):
    """A Saver without save_relative_paths lists absolute paths of the machine that trained:
    the folder's own files are read, so a copied run folder works and none points outside."""
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "/cluster/old/run/model.ckpt-20"\n'
        'all_model_checkpoint_paths: "/cluster/old/run/model.ckpt-10"\n'
        'all_model_checkpoint_paths: "../elsewhere/model.ckpt-20"\n'
    )
    assert checkpoint_files.listed_checkpoints(str(tmp_path)) == [
        (10, f"{tmp_path}/model.ckpt-10"),
        (20, f"{tmp_path}/model.ckpt-20"),
    ]


def test_the_built_model_is_audited_in_each_format_of_formats():
    config = raw_config()
    names = {c["format"]: c for c in configuration.checked(config)["checkpoints"]}
    assert [c["name"] for c in names.values()] == [
        "seed",
        "seed.savedmodel",
        "seed.frozen_pb",
        "seed.object_ckpt",
    ]
    assert {c["checkpoint"] for c in names.values()} == {"seed"}
    assert names["savedmodel"]["orderings"] == orderings.format_orderings("savedmodel")
    assert names["frozen_pb"]["orderings"] == [
        "after_restore.import_graph_def",
        "after_restore_then_init.import_graph_def",
    ]
    config["formats"] = ["frozen_pb", "ckpt"]
    assert [c["name"] for c in configuration.checked(config)["checkpoints"]] == [
        "seed",
        "seed.frozen_pb",
    ]


def test_the_schema_allows_the_outcomes_and_formats_orderings_defines():
    schema = yaml.safe_load((PROJECT / "schemas" / "config.schema.yaml").read_text())
    assert schema["$defs"]["outcome"]["enum"] == list(orderings.OUTCOMES)
    formats = schema["properties"]["formats"]
    assert formats["oneOf"][1]["items"]["enum"] == list(orderings.FORMATS)
    described = " ".join(formats["description"].split())
    assert all(f"{name} (" in described for name in orderings.FORMATS)


def test_a_made_up_entry_setting_is_the_schemas_and_one_classs(built, monkeypatch, tmp_path):
    """A setting added to the schema and to one kind's class (here `note`, for a TF1
    checkpoint) reaches that kind's checkpoints' settings, and an entry of another kind that
    gives it is told it is not for its kind; nothing else names it."""
    schema = yaml.safe_load(configuration.SCHEMA.read_text())
    schema["properties"]["checkpoints"]["items"]["properties"]["note"] = {"type": "string"}
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(schema))

    class Noted(entries.Tf1Checkpoint):
        TAKES = (*entries.Tf1Checkpoint.TAKES, "note")

        def settings_of(self, checkpoint):
            return {**checkpoint, "note": self.entry.get("note")}

    config = raw_config()
    prefix = str(built / "ckpt" / "model.ckpt")
    config["checkpoints"] += [{"name": "mine", "prefix": prefix, "note": "from the archive"}]
    with pytest.raises(configuration.ConfigError, match=r"checkpoints\[1\]\.note: not for a TF1"):
        configuration.checked(config, tmp_path / "schema.yaml")  # the schema's alone
    monkeypatch.setattr(entries, "Tf1Checkpoint", Noted)
    *_, mine = configuration.checked(config, tmp_path / "schema.yaml")["checkpoints"]
    assert mine["note"] == "from the archive" and mine["format"] == "ckpt"
    config["checkpoints"][0]["note"] = "mine"
    with pytest.raises(configuration.ConfigError, match=r"checkpoints\[0\]\.note: not for build"):
        configuration.checked(config, tmp_path / "schema.yaml")
