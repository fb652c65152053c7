"""Auditing checkpoints from outside, made here the way users make theirs: restore.py, then
extract.py and report.py, in-process on the real TensorFlow."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import extract
import names
import report
import wild
from ckptorder import configuration, orderings, step_settings
from ckptorder.formats import ckpt
from ckptorder.orderings import ordering_of
from ckptorder.tfsession import session, tf
from ckptorder.values import Values
from conftest import REPORT_OUTPUTS, run_restore

PARTIAL = ordering_of("restore_partial", "initialize_uninitialized")
RESTORE_ONLY = ordering_of("restore_all")
INIT_ONLY = ordering_of("initialize_all")
FROM_CHECKPOINT = ordering_of("initialize_from_checkpoint")
SUGGESTED = ordering_of("initialize_from_suggested_map")
EVERY_ORDERING = ckpt.BUILT_ORDERINGS


def dense(widths, scopes=None, seeded=True, resource=True):
    """A dense net of resource variables (reference variables if not `resource`; scopes
    dense_0, dense_1, ... unless named), its loss on a fixed batch, in the default graph."""
    if seeded:
        tf.compat.v1.set_random_seed(3)
    layer = tf.constant([[0.5] * 6, [-1.0] * 6])
    for n, width in enumerate(widths):
        with tf.compat.v1.variable_scope(scopes[n] if scopes else f"dense_{n}"):
            kernel = tf.compat.v1.get_variable(
                "kernel", [layer.shape[1], width], use_resource=resource
            )
            bias = tf.compat.v1.get_variable(
                "bias", [width], initializer=tf.compat.v1.zeros_initializer(), use_resource=resource
            )
        layer = tf.nn.relu(tf.matmul(layer, kernel) + bias)
    return tf.reduce_mean(tf.square(layer - 1.0))


def save(prefix, make, optimizer=None, var_list=None, strip_default_attrs=False):
    """Build `make()` in a new graph, train it 3 steps (`optimizer`, SGD by default) and save
    it under `prefix` with its `.meta` file (without the attributes that hold their default
    where `strip_default_attrs`, as an Estimator's export). Returns `prefix`."""
    with tf.Graph().as_default():
        loss = make()
        train = (optimizer or tf.compat.v1.train.GradientDescentOptimizer(0.1)).minimize(loss)
        saver = tf.compat.v1.train.Saver(var_list=var_list() if var_list else None)
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            saver.save(sess, str(prefix), strip_default_attrs=strip_default_attrs)
    return str(prefix)


def export_graph(path, make):
    """The `.meta` file of `make()`'s graph, never trained or saved: an inference graph."""
    with tf.Graph().as_default():
        make()
        tf.compat.v1.train.Saver()
        tf.compat.v1.train.export_meta_graph(str(path))
    return str(path)


def audit(
    tmp_path,
    prefix,
    ordering_names,
    graph=None,
    partial=None,
    probes=None,
    averages=None,
    trust=False,
):
    """variables.csv, report.csv and compatibility.csv of one checkpoint as the pipeline makes
    them; `averages`: its entry's moving_averages."""
    settings = {
        "checkpoint": "mine",
        "orderings": ordering_names,
        "partial_variables": partial,
        "moving_averages": averages,
        "trust": trust,
        "output_tensor": None,
    }
    folder = run_restore(json.dumps(settings), prefix, tmp_path / "values", graph=graph)
    probes = probes or [{"tensor": "dense_0/kernel", "slice": "[0, :]"}]
    states = orderings.states(ordering_names)
    slices = tmp_path / "slices.csv"
    extract_settings = {"checkpoint": "mine", "states": states, "probes": probes}
    extract.main(
        [
            "--settings",
            json.dumps(extract_settings),
            "--values",
            str(folder),
            "--output",
            str(slices),
        ]
    )
    checkpoint = {
        "name": "mine",
        "checkpoint": "mine",
        "format": "ckpt",
        "run": None,
        "step": None,
        "orderings": ordering_names,
        "partial_variables": partial or [],
        "expected": {},
        "probes": probes,
    }
    outputs = {key: tmp_path / f"{key}.csv" for key in REPORT_OUTPUTS}
    report.main(
        [
            "--settings",
            json.dumps({"checkpoints": [checkpoint], "config": {}, "snakemake": "9"}),
            "--slices",
            str(slices),
            "--values",
            str(folder),
            *(arg for key, path in outputs.items() for arg in (f"--{key}", str(path))),
        ]
    )
    compatible = pd.read_csv(outputs["compatibility"], keep_default_na=False)
    return pd.read_csv(outputs["variables"]), pd.read_csv(outputs["report"]), compatible


def outcomes(variables, ordering):
    return variables[variables["ordering"] == ordering].set_index("variable")["outcome"].to_dict()


def test_a_dense_net_of_resource_variables_ends_as_each_ordering_says(tmp_path):
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([4, 2]))
    partial = ["dense_0/kernel", "dense_0/bias"]
    variables, probes, _ = audit(tmp_path, prefix, EVERY_ORDERING, partial=partial)
    assert (variables["outcome"] == variables["expected"]).all()
    kernels = variables["variable"].str.endswith("/kernel")
    assert (variables["initializer"] == kernels.map({True: "seeded", False: "constant"})).all()
    assert set(outcomes(variables, PARTIAL).items()) == {
        ("dense_0/kernel", "restored"),
        ("dense_0/bias", "restored"),
        ("dense_1/kernel", "reinitialized"),
        ("dense_1/bias", "reinitialized"),
    }
    assert probes["as_expected"].all() and len(probes) == len(EVERY_ORDERING)


@pytest.mark.parametrize("strip_default_attrs", [False, True])
def test_an_unseeded_graph_is_detected_and_reinitialising_it_shows_changed(
    tmp_path, strip_default_attrs
):
    """Unseeded, a random op's seed and seed2 are 0: written with default attributes stripped,
    the graph has neither, and is as unseeded."""
    prefix = save(
        tmp_path / "ckpt" / "model.ckpt",
        lambda: dense([4], seeded=False),
        strip_default_attrs=strip_default_attrs,
    )
    meta_graph = tf.compat.v1.MetaGraphDef()
    meta_graph.ParseFromString(Path(f"{prefix}.meta").read_bytes())
    (random,) = [node for node in meta_graph.graph_def.node if node.op == "RandomUniform"]
    assert ("seed" in random.attr) != strip_default_attrs
    variables, _, _ = audit(tmp_path, prefix, [RESTORE_ONLY, INIT_ONLY])
    initializer = variables.drop_duplicates("variable").set_index("variable")["initializer"]
    # The kernel's initializer draws random numbers without a seed; the bias's is zeros.
    assert initializer.to_dict() == {"dense_0/kernel": "unseeded", "dense_0/bias": "constant"}
    assert outcomes(variables, INIT_ONLY) == {
        "dense_0/kernel": "changed",
        "dense_0/bias": "reinitialized",
    }
    assert outcomes(variables, RESTORE_ONLY) == {
        "dense_0/kernel": "restored",
        "dense_0/bias": "restored",
    }
    assert (variables["outcome"] == variables["expected"]).all()


def test_a_fine_tuning_graph_against_the_old_checkpoint(tmp_path):
    """The new graph renames a scope (dense_1 to head) and adds a layer: a full restore and
    init_from_checkpoint raise, and their rows say so; a partial restore of the layer both
    share restores it and initialises the rest; compatibility.csv finds head's variables
    under dense_1's keys, and restoring through that map restores all but the new layer."""
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([4, 2]))
    graph = export_graph(
        tmp_path / "new.meta", lambda: dense([4, 2, 3], scopes=["dense_0", "head", "extra"])
    )
    shared = ["dense_0/kernel", "dense_0/bias"]
    ordering_names = [RESTORE_ONLY, FROM_CHECKPOINT, PARTIAL, SUGGESTED]
    variables, _, compatible = audit(tmp_path, prefix, ordering_names, graph=graph, partial=shared)
    failed = variables[variables["ordering"].isin([RESTORE_ONLY, FROM_CHECKPOINT])]
    assert (failed["outcome"] == "failed").all()
    errors = failed.groupby("ordering")["error"].first()
    assert re.fullmatch(r"NotFoundError: Key \w+/\w+ not found in checkpoint", errors[RESTORE_ONLY])
    assert errors[FROM_CHECKPOINT].startswith("ValueError: ")
    assert "is not found in" in errors[FROM_CHECKPOINT]
    partial = outcomes(variables, PARTIAL)
    assert [partial[name] for name in shared] == ["restored", "restored"]
    assert {partial[n] for n in partial if n not in shared} == {"reinitialized"}
    rows = compatible.set_index(compatible["variable"] + compatible["key"])
    assert rows.loc["head/kernel", ["status", "suggested_key"]].tolist() == [
        "missing_in_checkpoint",
        "dense_1/kernel",
    ]
    assert rows.loc["extra/kernel", "suggested_key"] == ""
    assert rows.loc["dense_1/bias", "status"] == "unused_key"
    assert outcomes(variables, SUGGESTED) == {
        "dense_0/kernel": "restored",
        "dense_0/bias": "restored",
        "head/kernel": "restored",
        "head/bias": "restored",
        "extra/kernel": "reinitialized",
        "extra/bias": "reinitialized",
    }
    assert (variables["outcome"] == variables["expected"])[variables["ordering"] == SUGGESTED].all()


def test_a_changed_output_layer_fails_the_restore_of_reference_variables(tmp_path):
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([4, 2], resource=False))
    graph = export_graph(tmp_path / "new.meta", lambda: dense([4, 5], resource=False))
    variables, _, _ = audit(tmp_path, prefix, [RESTORE_ONLY], graph=graph)
    assert (variables["outcome"] == "failed").all()
    assert variables["error"].iloc[0].startswith("InvalidArgumentError: ")


def test_a_changed_output_layer_takes_the_old_shape_into_a_resource_variable(tmp_path):
    """What TensorFlow really does: a resource variable's restore does not check the shape,
    so the (4, 5) kernel ends up holding the checkpoint's (4, 2) values: `changed`, neither
    its saved value (the checkpoint's differs in shape) nor its initial one."""
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([4, 2]))
    graph = export_graph(tmp_path / "new.meta", lambda: dense([4, 5]))
    variables, _, _ = audit(tmp_path, prefix, [RESTORE_ONLY], graph=graph)
    assert outcomes(variables, RESTORE_ONLY) == {
        "dense_0/kernel": "restored",
        "dense_0/bias": "restored",
        "dense_1/kernel": "changed",
        "dense_1/bias": "changed",
    }
    with Values(tmp_path / "values" / f"{RESTORE_ONLY}.npz") as state:
        assert state.read("dense_1/kernel").shape == (4, 2)


def test_a_training_checkpoint_with_adam_slots_restores_into_its_inference_graph(tmp_path):
    prefix = save(
        tmp_path / "ckpt" / "model.ckpt",
        lambda: dense([4, 2]),
        optimizer=tf.compat.v1.train.AdamOptimizer(0.1),
    )
    graph = export_graph(tmp_path / "inference.meta", lambda: dense([4, 2]))
    variables, _, compatible = audit(tmp_path, prefix, [RESTORE_ONLY, INIT_ONLY], graph=graph)
    unused = set(compatible.loc[compatible["status"] == "unused_key", "key"])
    assert {"dense_0/kernel/Adam", "dense_0/kernel/Adam_1", "beta1_power"} <= unused
    assert set(compatible.loc[compatible["variable"] != "", "status"]) == {"match"}
    assert sorted(variables["variable"].unique()) == [
        "dense_0/bias",
        "dense_0/kernel",
        "dense_1/bias",
        "dense_1/kernel",
    ]
    assert set(outcomes(variables, RESTORE_ONLY).values()) == {"restored"}


def test_a_saver_of_some_variables_leaves_the_others_uninitialized(tmp_path):
    def only_the_first_layer():
        return [v for v in tf.compat.v1.global_variables() if v.op.name.startswith("dense_0/")]

    prefix = save(
        tmp_path / "ckpt" / "model.ckpt", lambda: dense([4, 2]), var_list=only_the_first_layer
    )
    variables, probes, _ = audit(
        tmp_path,
        prefix,
        [RESTORE_ONLY],
        probes=[{"tensor": "dense_1/kernel", "slice": "[0]"}],
    )
    assert outcomes(variables, RESTORE_ONLY) == {
        "dense_0/kernel": "restored",
        "dense_0/bias": "restored",
        "dense_1/kernel": "uninitialized",
        "dense_1/bias": "uninitialized",
    }
    assert probes["outcome"].tolist() == ["uninitialized"]


@pytest.mark.parametrize("partial", [["nowhere/kernel"]])
def test_a_partial_restore_naming_variables_the_graph_lacks_names_the_checkpoint(
    tmp_path, capsys, partial
):
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([4]))
    with pytest.raises(SystemExit):
        audit(tmp_path, prefix, [PARTIAL], partial=partial)
    err = capsys.readouterr().err
    assert "partial_restore.variables of checkpoint mine: ['nowhere/kernel']" in err
    assert "it has: dense_0/kernel, dense_0/bias" in err


def save_training_run(folder, steps):
    """A training run's folder: a checkpoint after each of `steps` SGD steps, named by the
    global step, listed in the folder's `checkpoint` state file."""
    with tf.Graph().as_default():
        loss = dense([4, 2])
        step = tf.compat.v1.train.get_or_create_global_step()
        train = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        saver = tf.compat.v1.train.Saver()
        with session(tf.compat.v1.get_default_graph(), 1) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
                saver.save(sess, str(folder / "model.ckpt"), global_step=step)
    return folder


def test_a_training_runs_folder_gives_each_checkpoint_and_the_trajectory(tmp_path, config):
    folder = save_training_run(tmp_path / "training", steps=3)
    probes = [{"tensor": "dense_0/kernel", "slice": "[0, :2]"}]
    entry = {"name": "run", "prefix": str(folder), "orderings": [RESTORE_ONLY], "probes": probes}
    raw = {key: value for key, value in config.items() if key != "checkpoints"}
    raw["orderings"] = "all"
    checked = configuration.checked({**raw, "checkpoints": [entry]})
    checkpoints = checked["checkpoints"]
    assert [(c["name"], c["step"], c["run"]) for c in checkpoints] == [
        ("run-1", 1, "run"),
        ("run-2", 2, "run"),
        ("run-3", 3, "run"),
    ]
    assert checkpoints[2]["prefix"] == f"{folder}/model.ckpt-3"
    slices, values = [], []
    for checkpoint in checkpoints:
        out = tmp_path / checkpoint["name"]
        values.append(
            str(run_restore(step_settings.restore_settings(checkpoint), checkpoint["prefix"], out))
        )
        slices.append(str(out.with_suffix(".csv")))
        settings = step_settings.extract_settings(checkpoint)
        extract.main(["--settings", settings, "--values", values[-1], "--output", slices[-1]])
    outputs = {key: tmp_path / f"{key}.csv" for key in REPORT_OUTPUTS}
    report.main(
        ["--settings", step_settings.report_settings(checked), "--slices", *slices]
        + ["--values", *values]
        + [arg for key, path in outputs.items() for arg in (f"--{key}", str(path))]
    )
    checkpoints = pd.read_csv(outputs["report"])["checkpoint"].unique().tolist()
    assert checkpoints == ["run-1", "run-2", "run-3"]
    trajectory = pd.read_csv(outputs["trajectory"], dtype={"index": str})
    assert trajectory["step"].tolist() == [1, 1, 2, 2, 3, 3]
    assert trajectory["index"].tolist() == ["0,0", "0,1"] * 3
    reader = tf.train.load_checkpoint(f"{folder}/model.ckpt-2")
    kernel = reader.get_tensor("dense_0/kernel")
    at_step_2 = trajectory.loc[trajectory["step"] == 2, "value"].to_numpy(np.float32)
    assert at_step_2.tobytes() == kernel[0, :2].tobytes()
    # Training moved the kernel between every two checkpoints.
    by_step = trajectory.groupby("step")["value"].apply(tuple)
    assert len(set(by_step)) == 3


@pytest.mark.parametrize("resource", [False, True], ids=["reference", "resource"])
def test_a_graph_imported_twice(tmp_path, resource):
    """tensorflow/tensorflow#6774, still so in TensorFlow 2.21: importing a meta graph twice
    adds variable ops `x_1` but lists `x` twice in the variables collection, so no
    initializer, restore or report_uninitialized_variables reaches the copies. What that does:
    reference variables' copies stay uninitialized under every ordering; resource variables'
    copies keep the original's shared_name, so they hold the original's value."""
    prefix = save(tmp_path / "ckpt" / "model.ckpt", lambda: dense([2], resource=resource))
    graph = str(tmp_path / "double.meta")
    with tf.Graph().as_default():
        saver = tf.compat.v1.train.import_meta_graph(f"{prefix}.meta")
        tf.compat.v1.train.import_meta_graph(f"{prefix}.meta")
        tf.compat.v1.train.export_meta_graph(graph, saver_def=saver.as_saver_def())
    uninitialized = ordering_of("restore_all", "initialize_uninitialized")
    ordering_names = [RESTORE_ONLY, INIT_ONLY, uninitialized]
    variables, _, _ = audit(tmp_path, prefix, ordering_names, graph=graph)
    assert len(variables) == 4 * len(ordering_names), "each variable once, copies included"
    copies = variables[variables["variable"].str.endswith("_1")]
    assert set(copies["variable"]) == {"dense_0/kernel_1", "dense_0/bias_1"}
    assert (copies["initializer"] == "unlisted").all()
    if resource:
        assert outcomes(variables, RESTORE_ONLY)["dense_0/kernel_1"] == "restored"
        assert outcomes(variables, INIT_ONLY)["dense_0/kernel_1"] == "reinitialized"
    else:
        assert (copies["outcome"] == "uninitialized").all()
    assert outcomes(variables, uninitialized)["dense_0/kernel"] == "restored"
    assert (variables["outcome"] == variables["expected"]).all()


def test_a_graph_as_tf_1x_wrote_it_restores_though_tensorflow_cannot_import_all_of_it(tmp_path):
    """What an old TensorFlow wrote in a training graph, on ops no restore needs: a stale
    `_output_shapes` (TF 1.x's FusedBatchNormGrad output #3) and an op since renamed. The whole
    graph fails import_meta_graph; the audit imports only what it runs, and restores it."""
    import wild

    prefix = tmp_path / "old" / "model.ckpt"
    wild.save_trained(prefix, 2, 8)
    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(prefix.with_suffix(".ckpt.meta").read_bytes())
    grad = next(n for n in meta.graph_def.node if n.op.startswith("FusedBatchNormGrad"))
    # As TF 1.x wrote it: a reserve space of the channels' size, where 2.21 infers [0].
    grad.attr["_output_shapes"].list.shape[3].dim[0].size = 64
    with tf.Graph().as_default(), pytest.raises(ValueError, match="output #3"):
        tf.compat.v1.train.import_meta_graph(meta)
    old = meta.graph_def.node.add(name="gradients/old_op", op="FusedBatchNormGradV0")
    old.input.append(grad.name)
    prefix.with_suffix(".ckpt.meta").write_bytes(meta.SerializeToString())
    alone = tf.compat.v1.GraphDef()
    alone.node.add(name="old_op", op=old.op)
    with tf.Graph().as_default(), pytest.raises(tf.errors.NotFoundError, match="not registered"):
        tf.compat.v1.import_graph_def(alone, name="")
    settings = json.dumps(
        {
            "checkpoint": "old",
            "orderings": [RESTORE_ONLY],
            "partial_variables": None,
            "moving_averages": None,
            "trust": False,
            "output_tensor": None,
        }
    )
    run_restore(settings, prefix, tmp_path / "values")
    with Values(tmp_path / "values" / f"{RESTORE_ONLY}.npz") as restored:
        assert {restored.source(name) for name in restored.names} == {"saved"}


AVERAGES = ordering_of("restore_moving_averages")


def test_moving_averages_restore_each_shadow_into_its_variable(tmp_path):
    """A TF1 training checkpoint with ExponentialMovingAverage shadows (batch norm, Adam):
    Saver(ema.variables_to_restore()) gives each trainable variable its shadow's saved value
    bit for bit (which differs from its own), restores the others by their own name and leaves
    the shadows uninitialized; the same orderings without the setting restore every variable
    under its own name."""
    prefix = tmp_path / "ema" / "model.ckpt"
    wild.save_trained(prefix, 2, 4, ema=True, summaries=False)
    names = [AVERAGES, RESTORE_ONLY]
    variables, probes, _ = audit(
        tmp_path, str(prefix), names, averages="ExponentialMovingAverage", probes=PROBE
    )
    assert (variables["outcome"] == variables["expected"]).all()
    averaged = outcomes(variables, AVERAGES)
    shadows = {name for name in averaged if name.endswith("/ExponentialMovingAverage")}
    trained = {shadow.rsplit("/", 1)[0] for shadow in shadows}
    assert trained == {f"layer_{n}/{v}" for n in (0, 1) for v in ("kernel", "gamma", "beta")}
    assert {averaged[name] for name in shadows} == {"uninitialized"}
    assert {outcome for name, outcome in averaged.items() if name not in shadows} == {"restored"}
    assert set(outcomes(variables, RESTORE_ONLY).values()) == {"restored"}
    reader = tf.train.load_checkpoint(str(prefix))
    with Values(tmp_path / "values" / f"{AVERAGES}.npz") as restored:
        for name in trained:
            shadow = reader.get_tensor(f"{name}/ExponentialMovingAverage")
            assert np.array_equal(restored.read(name), shadow)
            assert not np.array_equal(shadow, reader.get_tensor(name)), "trained: they differ"
    kernel = probes[(probes["ordering"] == AVERAGES)].iloc[0]
    assert kernel["outcome"] == kernel["expected"] == "restored"


PROBE = [{"tensor": "layer_0/kernel/read:0", "slice": "[0, :]"}]


def test_moving_averages_a_checkpoint_lacks_fail_the_ordering_as_predicted(tmp_path):
    """Without shadows in the checkpoint, variables_to_restore still asks for one per
    trainable variable: the restore raises NotFoundError, which the steps predict."""
    prefix = tmp_path / "plain" / "model.ckpt"
    wild.save_trained(prefix, 1, 4, summaries=False)
    variables, _, _ = audit(
        tmp_path, str(prefix), [AVERAGES], averages="ExponentialMovingAverage", probes=PROBE
    )
    assert set(variables["outcome"]) == set(variables["expected"]) == {"failed"}
    assert variables["error"].str.startswith("NotFoundError").all()


def test_a_moving_averages_name_no_key_ends_in_fails_the_names_check(tmp_path, capsys):
    prefix = tmp_path / "ema" / "model.ckpt"
    wild.save_trained(prefix, 1, 4, ema=True, summaries=False)
    settings = {"checkpoint": "mine", "probes": [], "partial_variables": None}
    arguments = ["--checkpoint", str(prefix), "--output", str(tmp_path / "names.json")]
    for name in ("ExponentialMovingAverage", "MovingAverage"):
        given = json.dumps({**settings, "moving_averages": name})
        if name == "MovingAverage":
            with pytest.raises(SystemExit):
                names.main(["--settings", given, *arguments])
        else:
            names.main(["--settings", given, *arguments])
    found = json.loads((tmp_path / "names.json").read_text())
    assert found["shared"] == found["variables"] == found["keys"]
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: checkpoint mine ({prefix}.meta): moving_averages: no key of the checkpoint ends"
        " in /MovingAverage (closest last parts: ExponentialMovingAverage)"
    )


def test_a_run_folder_that_ships_some_of_its_checkpoints_audits_those_and_says_so(tmp_path, config):
    """A published run folder often keeps its state file's list but only its last checkpoints:
    those on disk are audited, named by their step, and one line names the others."""
    folder = save_training_run(tmp_path / "training", steps=4)
    for step in (1, 2):
        for path in folder.glob(f"model.ckpt-{step}.*"):
            path.unlink()
    entry = {"name": "run", "prefix": str(folder), "orderings": [RESTORE_ONLY]}
    raw = {key: value for key, value in config.items() if key != "checkpoints"}
    given = {**raw, "checkpoints": [entry]}
    assert configuration.notes(given) == [
        "note: checkpoints[0] (run): its state file lists 2 checkpoint(s) not on disk, audited"
        " without them: model.ckpt-1, model.ckpt-2"
    ]
    checkpoints = configuration.checked(given)["checkpoints"]
    assert [(c["name"], c["step"]) for c in checkpoints] == [("run-3", 3), ("run-4", 4)]
    values = run_restore(
        step_settings.restore_settings(checkpoints[1]), checkpoints[1]["prefix"], tmp_path / "v"
    )
    with Values(values / f"{RESTORE_ONLY}.npz") as restored:
        assert {restored.source(name) for name in restored.names} == {"saved"}
    for path in folder.glob("model.ckpt-*"):
        path.unlink()
    assert configuration.notes(given) == []  # none on disk: the config error names each file
    with pytest.raises(configuration.ConfigError, match="no such file"):
        configuration.checked(given)


def test_a_warm_start_whose_source_is_absent_reports_what_failed_with_its_probes(tmp_path):
    """A trusted training run warm-started from a checkpoint that is not here: its
    initializers raise, so `initial` and every ordering that runs them fail, and each is a
    row that says so; Saver.restore alone still restores."""
    source = save(tmp_path / "source" / "model.ckpt", lambda: dense([4]))

    def warm_started():
        loss = dense([4])
        tf.compat.v1.train.init_from_checkpoint(source, {"dense_0/": "dense_0/"})
        return loss

    prefix = save(tmp_path / "ckpt" / "model.ckpt", warm_started)
    for path in (tmp_path / "source").iterdir():
        path.unlink()
    variables, probes, _ = audit(tmp_path, prefix, [RESTORE_ONLY, INIT_ONLY], trust=True)
    assert set(outcomes(variables, RESTORE_ONLY).values()) == {"restored"}
    assert set(outcomes(variables, INIT_ONLY).values()) == {"failed"}
    initializer = variables.drop_duplicates("variable").set_index("variable")["initializer"]
    assert initializer.to_dict() == {"dense_0/kernel": "checkpoint", "dense_0/bias": "checkpoint"}
    failed = probes.set_index("ordering").loc[INIT_ONLY]
    assert failed["outcome"] == "failed" and "source/model.ckpt" in failed["error"]
