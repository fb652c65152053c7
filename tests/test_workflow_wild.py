"""Checkpoints from outside, as users bring them, through the real `snakemake --cores 4`: the
README's example copied as written, a TF1 training checkpoint saved under an empty file name
with a state file from the machine that trained it (batch norm, Adam slots, global_step, a
partitioned variable, an int64 and a string variable), a sharded one, one trained with moving
averages, one of ResNet-50's size in variables, a graph that is not the checkpoint's, and two
SavedModels' folders (a trained Keras model with its optimizer, by tf.saved_model.save, and a
TF1 saved_model.Builder's with main_op), a Keras model's TF2 checkpoint with its optimizer,
listed alone and restored into the model's code, and a TF1 checkpoint restored into TF2 code.
One run for the session, then a mistake and a rerun on copies of it."""

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml

import wild
from ckptorder import orderings
from ckptorder.formats import given_object_ckpt
from conftest import PROJECT, copy_project, snakemake
from savedmodels import SIGNATURE_RUNS, signature_outcome
from test_audit import dense, export_graph, save

pytestmark = pytest.mark.workflow
AVERAGES = orderings.ordering_of("restore_moving_averages")
RACING = orderings.ordering_of("restore_all", "initialize_all")
PARTIAL = orderings.ordering_of("restore_partial", "initialize_uninitialized")
# Layers of kernel, batch norm and momentum slots: 1,001 variables, about 20,000 graph nodes.
DEEP_LAYERS = 125
SHARD_PROBE = {"tensor": "layer_0/kernel/read:0", "slice": "[0, :3]"}
# The SavedModels' entries, by the kind of tests/savedmodels.py each is; the TF1 one's entry
# asks to be judged.
SAVEDMODELS = {"keras_trained": "with_optimizer", "builder": "tf1_main_op"}
JUDGED_SAVEDMODEL = "builder"
# What the TF2 checkpoint's entry restores into: the function that builds its Keras model.
KERAS_MODEL = "tests/tf2_checkpoints.py:keras_model"
# The TF2 code a TF1 checkpoint's entry restores it into, by name.
TF2_CODE = "tests/tf2_checkpoints.py:scoped_module"


def readme_entry():
    """The README's "Audit your own checkpoint" entry, as written there."""
    section = (PROJECT / "README.md").read_text().split("## Audit your own checkpoint", 1)[1]
    block = re.search(r"\n((?:    .*\n)+)", section).group(1)
    return yaml.safe_load(textwrap.dedent(block))["checkpoints"][-1]


def make_checkpoints(workdir, finetune):
    """The files of every entry, made in `workdir`; returns the entries."""
    save(workdir / finetune["prefix"], lambda: dense([4, 3]))
    export_graph(workdir / finetune["graph"], lambda: dense([4, 3, 2], ["dense_0", "head", "x"]))
    wild.save_trained(f"{workdir}/empty_name/", 2, 8, partitioned=True, extras=True)
    wild.as_if_trained_elsewhere(workdir / "empty_name")
    wild.save_trained(workdir / "sharded/model.ckpt", 2, 8, optimizer="momentum", shards=2)
    wild.save_trained(workdir / "averaged/model.ckpt", 2, 8, ema=True)
    # ResNet-50's size in variables and graph nodes (its bytes are not what is tested here).
    wild.save_trained(workdir / "deep/model.ckpt", DEEP_LAYERS, 4, optimizer="momentum")
    export_graph(workdir / "unrelated.meta", lambda: dense([3], ["elsewhere"]))
    run_folder(workdir / "averaged", workdir / "run")
    for kind in SAVEDMODELS.values():
        script = PROJECT / "tests" / "savedmodels.py"
        command = [sys.executable, script, kind, workdir / "savedmodels" / kind]
        subprocess.run(command, check=True, capture_output=True)
    script = PROJECT / "tests" / "tf2_checkpoints.py"
    for kind, prefix in (("keras_with_optimizer", "tf2/ckpt"), ("tf1_dense", "tf1/model.ckpt")):
        subprocess.run(
            [sys.executable, script, kind, workdir / prefix], check=True, capture_output=True
        )
    return [
        finetune,
        {"name": "empty", "prefix": "empty_name", "expected": {}},
        {
            "name": "shard",
            "prefix": "sharded/model.ckpt",
            "probes": [SHARD_PROBE],
            "partial_restore": {"variables": ["layer_0/kernel"]},
            "expected": {},
        },
        {"name": "unrelated", "prefix": "sharded/model.ckpt", "graph": "unrelated.meta"},
        {
            "name": "ema",
            "prefix": "averaged/model.ckpt",
            "moving_averages": "ExponentialMovingAverage",
            "partial_restore": {"variables": ["layer_0/kernel"]},
            "expected": {},
        },
        {"name": "ema_unset", "prefix": "averaged/model.ckpt"},
        {"name": "deep", "prefix": "deep/model.ckpt", "expected": {}},
        {"name": "run", "prefix": "run"},
        *(
            {"name": name, "prefix": f"savedmodels/{kind}"}
            | ({"expected": {}} if name == JUDGED_SAVEDMODEL else {})
            for name, kind in SAVEDMODELS.items()
        ),
        {"name": "tf2_listed", "prefix": "tf2/ckpt-1"},
        # The folder save() wrote, with its state file: a run of one checkpoint.
        # Judged: each ordering's steps predict what it leaves.
        {"name": "tf2_keras", "prefix": "tf2", "model": KERAS_MODEL, "trust": True, "expected": {}},
        {"name": "migrated", "prefix": "tf1/model.ckpt", "model": TF2_CODE, "trust": True},
    ]


def run_folder(source, folder):
    """A training run's folder of two checkpoints (copies of the one in `source`), listed in
    its state file as a Saver lists them."""
    folder.mkdir()
    for step in (10, 20):
        for path in source.glob("model.ckpt.*"):
            shutil.copy(path, folder / path.name.replace("model.ckpt", f"model.ckpt-{step}"))
    (folder / "checkpoint").write_text(
        'model_checkpoint_path: "model.ckpt-20"\n'
        'all_model_checkpoint_paths: "model.ckpt-10"\n'
        'all_model_checkpoint_paths: "model.ckpt-20"\n'
    )


@pytest.fixture(scope="session")
def wild_run(tmp_path_factory):
    """A project copy with the outside checkpoints in its config (the built model's
    checkpoint format alone), on which the pipeline has run to the end."""
    workdir = copy_project(tmp_path_factory.mktemp("wild") / "project")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["formats"] = ["ckpt"]
    config["checkpoints"] += make_checkpoints(workdir, readme_entry())
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--cores", "4")
    return workdir, result


def test_outside_checkpoints_are_audited_on_the_first_try(wild_run):
    workdir, result = wild_run
    assert "Traceback" not in result.stdout + result.stderr
    variables = pd.read_csv(workdir / "results" / "variables.csv")
    judged = variables[variables["checkpoint"].isin(["empty", "shard", "ema", "deep"])]
    assert judged["as_expected"].eq(True).all()
    deep = variables[variables["checkpoint"] == "deep"]
    assert deep["variable"].nunique() == 1001
    names = (workdir / "results" / "names" / "deep.json").read_text()
    assert json.loads(names)["shared"] == 1001
    averaged = variables[(variables["checkpoint"] == "ema") & (variables["ordering"] == AVERAGES)]
    shadows = averaged["variable"].str.endswith("/ExponentialMovingAverage")
    assert set(averaged.loc[shadows, "outcome"]) == {"uninitialized"}
    assert set(averaged.loc[~shadows, "outcome"]) == {"restored"}
    assert AVERAGES not in set(variables.loc[variables["checkpoint"] == "ema_unset", "ordering"])
    # A shadow's initializer copies the variable it averages (docs/audit.md).
    ema = variables[variables["checkpoint"] == "ema"].set_index(["ordering", "variable"])
    assert ema.loc[(PARTIAL, "layer_0/kernel/ExponentialMovingAverage"), "expected"] == "changed"
    racing = ema.loc[RACING]
    racing = racing[racing.index.str.endswith("/ExponentialMovingAverage")]
    assert set(racing["expected"]) == {"changed or reinitialized"}
    empty = variables[variables["checkpoint"] == "empty"]
    names = set(empty["variable"])
    assert {"global_step", "counter", "label", "embedding/part_0", "embedding/part_1"} <= names
    assert {"layer_0/moving_mean", "layer_0/kernel/Adam", "layer_1/gamma/Adam_1"} <= names
    restored = empty[empty["ordering"] == "restore_only"]
    assert (restored["outcome"] == "restored").all(), "the parts too, from the whole's key"
    from_checkpoint = empty[empty["ordering"] == "init_from_checkpoint"]
    assert (from_checkpoint["outcome"] == "restored").all()
    report = pd.read_csv(workdir / "results" / "report.csv")
    assert set(report["checkpoint"]) == {"seed", "shard"}, "probes only where an entry has some"
    figures = workdir / "results" / "figures"
    assert (figures / "empty" / "outcomes.png").exists()
    assert not (figures / "empty" / "probes.png").exists()
    assert {"run-10", "run-20"} <= set(variables["checkpoint"])
    assert not (figures / "run" / "trajectory.png").exists(), "no probes, no trajectory"


def test_the_answer_counts_outcomes_names_what_did_not_run_and_warns_of_a_stranger(wild_run):
    workdir, result = wild_run
    answer = (workdir / "results" / "verified.txt").read_text()
    assert answer in result.stdout
    counts = answer.split("Variables per outcome: empty, 33 variables", 1)[1].split("\n\n")[0]
    assert counts.splitlines()[1].split() == [
        "variables",
        "restored",
        "reinitialized",
        "UNEXPECTED",
    ]
    assert "WARNING: unrelated: only 0 of its graph's 2 variables are in the checkpoint," in answer
    assert "WARNING: finetune" not in answer and "WARNING: empty" not in answer
    skipped = "partial_restore not run: its entry sets no partial_restore.variables"
    assert f"finetune: {skipped}" in answer and f"empty: {skipped}" in answer
    assert f"ema_unset: {AVERAGES} not run: its entry sets no moving_averages" in answer
    assert "Its checkpoint holds 6 (e.g. layer_0/kernel/ExponentialMovingAverage)" in answer
    assert "empty: restore_moving_averages" not in answer, "it holds no moving averages"
    assert max(map(len, answer.splitlines())) <= 125


def test_a_savedmodels_folder_is_loaded_each_way_its_kind_allows(wild_run):
    workdir = wild_run[0]
    variables = pd.read_csv(workdir / "results" / "variables.csv", keep_default_na=False)
    loads = {"loader_load", "loader_load_then_init", "load_v2_restore", "load_v2_global_init"}
    loads |= {"load_v2_eager"}
    trained = variables[variables["checkpoint"] == "keras_trained"]
    assert set(trained["format"]) == {"savedmodel"} and set(trained["variant"]) == {"tf2"}
    assert set(trained["ordering"]) == loads and trained["variable"].nunique() == 14
    assert "optimizer/_iterations" in set(trained["variable"])
    graph_restore = trained["ordering"] == "load_v2_restore"
    assert set(trained.loc[graph_restore, "outcome"]) == {"uninitialized"}
    assert set(trained.loc[~graph_restore, "outcome"]) == {"restored"}
    assert set(trained["initializer"]) == {"unlisted"} and set(trained["expected"]) == {""}
    builder = variables[variables["checkpoint"] == JUDGED_SAVEDMODEL]
    assert set(builder["variant"]) == {"tf1"}
    # Judged: main_op()'s init op initialises both variables, which the steps predict.
    assert builder["expected"].ne("").all() and builder["as_expected"].eq("True").all()
    kernel = builder[builder["variable"] == "dense/kernel"].set_index("ordering")["outcome"]
    # main_op() runs the initializers after the restore, in either loader.
    assert kernel.to_dict() == {
        "loader_load": "reinitialized",
        "loader_load_then_init": "changed",
        "load_v2_restore": "restored",
        "load_v2_global_init": "uninitialized",
        "load_v2_eager": "reinitialized",
    }
    answer = (workdir / "results" / "verified.txt").read_text()
    reported = " ".join(answer.split()).split("reported, not judged (no expected): ")[1]
    assert "keras_trained" in reported.split(".")[0] and "builder" not in reported.split(".")[0]
    counts = answer.split("Variables per outcome: builder, 2 variables", 1)[1].split("\n\n")[0]
    assert counts.splitlines()[1].split()[-1] == "UNEXPECTED"  # judged
    assert counts.splitlines()[3].split() == ["tf1.loader_load", "1", "1", "0", "0", "0"]
    assert "Variables per outcome: keras_trained, 14 variables" in answer
    for name in SAVEDMODELS:
        assert (workdir / "results" / "figures" / name / "outcomes.png").exists()


def test_a_savedmodels_serving_signature_runs_after_each_load(wild_run):
    results = wild_run[0] / "results"
    inference = pd.read_csv(results / "inference.csv", keep_default_na=False)
    for name, kind in SAVEDMODELS.items():
        rows = inference[inference["checkpoint"] == name]
        assert set(rows["output"]) == {"serving_default/y"}
        runs = {
            row.ordering: signature_outcome(row.error, row.bit_equal) for row in rows.itertuples()
        }
        assert runs == SIGNATURE_RUNS[kind], name
        counts = [list(runs.values()).count(run) for run in ("equal", "differs")]
        counts.append(len(runs) - sum(counts))
        assert (
            f"{name}: its signatures' outputs (1) after each of 5 loads: the reference's bit for"
            f" bit after {counts[0]}, different after {counts[1]}, not run after {counts[2]}"
            " (inference.csv)."
        ) in " ".join((results / "verified.txt").read_text().split())
    answer = " ".join((results / "verified.txt").read_text().split())
    assert "keras_trained: a TF2 SavedModel, whose variables no initializer or collection" in answer
    assert "keras_trained: optimizer" not in answer  # not said to be a graph imported twice


def test_a_tf2_checkpoint_is_listed_alone_and_restored_into_its_models_code(wild_run):
    workdir = wild_run[0]
    results = workdir / "results"
    compatible = pd.read_csv(results / "compatibility.csv", keep_default_na=False)
    listed = compatible[compatible["checkpoint"] == "tf2_listed"]
    assert set(listed["status"]) == {"needs_model"} and len(listed) == 15
    matched = compatible[(compatible["checkpoint"] == "tf2_keras") & (compatible["variable"] != "")]
    assert len(matched) == 6 and set(matched["status"]) == {"match"}
    variables = pd.read_csv(results / "variables.csv", keep_default_na=False)
    keras = variables[variables["checkpoint"] == "tf2_keras"]
    assert set(keras["format"]) == {"object_ckpt"} and set(keras["variant"]) == {"tf2"}
    assert {f"tf2.{o}" for o in keras["ordering"]} == set(
        given_object_ckpt.variant_orderings("tf2")
    )
    for row in keras.itertuples():
        predicted = orderings.expected_outcomes(f"tf2.{row.ordering}", [row.variable], ())
        assert row.outcome == predicted[row.variable] or (
            row.saved_equals_initial and row.outcome == "restored"
        ), row
    # Its entry asks to be judged: verify judged every row, as expected.
    assert keras["as_expected"].eq("True").all() and keras["expected"].ne("").all()
    warned = keras.drop_duplicates("ordering").set_index("ordering")["warns_unrestored"]
    assert warned.to_dict() == {
        o.split(".")[1]: "silent" if "expect_partial" in o else "warns"
        for o in given_object_ckpt.variant_orderings("tf2")
    }
    answer = (results / "verified.txt").read_text()
    assert "Variables per outcome: tf2_keras, 6 variables" in answer
    assert "tf2_listed: a TF2 checkpoint; its 15 keys are listed in results/compatibility.csv" in (
        " ".join(answer.split())
    )
    assert (results / "figures" / "tf2_keras" / "outcomes.png").exists()
    assert not (results / "figures" / "tf2_listed").exists()


def test_a_tf1_checkpoint_given_tf2_code_is_restored_into_it_by_name(wild_run):
    results = wild_run[0] / "results"
    compatible = pd.read_csv(results / "compatibility.csv", keep_default_na=False)
    rows = compatible[compatible["checkpoint"] == "migrated"]
    assert dict(zip(rows["key"], rows["status"], strict=True)) == {
        **dict.fromkeys(["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"], "match"),
        "global_step": "unused_key",
    }
    variables = pd.read_csv(results / "variables.csv", keep_default_na=False)
    migrated = variables[variables["checkpoint"] == "migrated"]
    outcomes = migrated.groupby("ordering")["outcome"].agg(set).to_dict()
    # By name before the model exists, nothing waits for it: its initial values stay.
    assert outcomes == {
        "initialize_or_restore": {"failed"},
        "eager_create_then_restore": {"restored"},
        "eager_restore_then_attach": {"reinitialized"},
    }
    assert set(migrated["variant"]) == {"tf1"}


def test_a_wrong_name_fails_in_one_last_line_before_any_ordering_runs(wild_run, tmp_path):
    workdir = tmp_path / "project"
    shutil.copytree(wild_run[0], workdir, symlinks=True)
    shutil.rmtree(workdir / "results" / "values" / "shard")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    shard = next(entry for entry in config["checkpoints"] if entry["name"] == "shard")
    shard["probes"] = [{"tensor": "layer_0/kernl", "slice": "[0]"}]
    shard["partial_restore"]["variables"] = ["layer_1/kernel", "layer_9/kernel"]
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--cores", "4", check=False)
    assert result.returncode == 1
    assert result.stderr.rstrip().splitlines()[-1] == (
        "error: checkpoint shard (sharded/model.ckpt.meta): probes[0]: 'layer_0/kernl' is not a"
        " variable of the graph (closest: layer_0/kernel, layer_1/kernel, layer_0/kernel/Momentum);"
        " partial_restore.variables: 'layer_9/kernel' is not a variable of the graph (closest:"
        " layer_1/kernel, layer_0/kernel, layer_1/kernel/Momentum)"
    )
    assert not (workdir / "results" / "values" / "shard").exists(), "no ordering ran"


def test_a_probe_change_reruns_the_names_check_not_the_restore(wild_run, tmp_path):
    workdir = tmp_path / "project"
    shutil.copytree(wild_run[0], workdir, symlinks=True)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    shard = next(entry for entry in config["checkpoints"] if entry["name"] == "shard")
    shard["probes"][0]["slice"] = "[1, :2]"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    log = workdir / "results" / "logs" / "restore" / "shard.log"
    before = log.stat().st_mtime_ns
    snakemake(workdir, "--cores", "4")
    assert log.stat().st_mtime_ns == before
    report = pd.read_csv(workdir / "results" / "report.csv")
    assert set(report.loc[report["checkpoint"] == "shard", "slice"]) == {"[1, :2]"}
