"""End to end: the real `snakemake --cores 4` in a temporary copy of the project."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ckptorder import network, orderings, slices, step_settings, tables
from ckptorder.formats import ckpt, object_ckpt
from ckptorder.object_network import EXTRA_VARIABLE
from ckptorder.orderings import ordering_of
from ckptorder.tfsession import tf
from conftest import snakemake

pytestmark = pytest.mark.workflow
PARTIAL = ordering_of("restore_partial", "initialize_uninitialized")


def test_every_ordering_ends_as_its_steps_say(pipeline, config):
    report = pd.read_csv(pipeline / "results" / "report.csv")
    assert list(report.columns) == list(tables.REPORT)
    assert report["as_expected"].all() and (report["checkpoint"] == "seed").all()
    assert report["format"].unique().tolist() == list(orderings.FORMATS)
    report = report[report["format"] == "ckpt"]
    assert report["error"].isna().all() and (report["initializer"] == "seeded").all()
    variables = pd.read_csv(pipeline / "results" / "variables.csv")
    kernels = variables["variable"].str.endswith("/kernel")
    assert (variables["initializer"] == kernels.map({True: "seeded", False: "constant"})).all()
    assert report["ordering"].unique().tolist() == ckpt.BUILT_ORDERINGS
    names = list(network.variable_shapes())
    partial = config["partial_restore"]["variables"]
    for row in report.itertuples():
        # Every variable of the seed's graph is in its checkpoint under its own name.
        expected = orderings.expected_outcomes(row.ordering, names, partial, mapped=names)
        assert row.outcome == expected[network.variable_name(row.tensor, names)], row
    outcome = {(r.ordering, r.tensor): r.outcome for r in report.itertuples()}
    wiped = ordering_of("restore_all", "initialize_all")
    assert outcome[(wiped, "conv_1/kernel/read:0")] == "reinitialized"
    assert outcome[(ordering_of("initialize_all", "restore_all"), "conv_1/kernel/read:0")] == (
        "restored"
    )
    assert outcome[(PARTIAL, "conv_1/kernel/read:0")] == "restored"
    assert outcome[(PARTIAL, "conv_3/kernel")] == "reinitialized"
    assert (
        report["n_values"] == report["tensor"].map({"conv_1/kernel/read:0": 9, "conv_3/kernel": 96})
    ).all()
    assert not report["saved_equals_initial"].any()


def test_reinitialized_means_bit_equal_to_the_initial_values(pipeline):
    variables = pd.read_csv(pipeline / "results" / "variables.csv")
    assert variables["as_expected"].all()
    variables = variables[variables["format"] == "ckpt"]
    assert len(variables) == len(ckpt.BUILT_ORDERINGS) * len(network.variable_shapes())
    reinitialized = variables[variables["outcome"] == "reinitialized"]
    assert reinitialized["equal_to_initial"].all() and not reinitialized["equal_to_saved"].any()
    assert (reinitialized["source"] == "initial").all()
    partial = variables[variables["ordering"] == PARTIAL].set_index("variable")
    assert partial["outcome"].to_dict() == {
        name: "restored" if name.startswith("conv_1/") else "reinitialized"
        for name in network.variable_shapes()
    }


def test_saved_slice_equals_the_tensor_read_from_the_checkpoint(pipeline):
    reader = tf.train.load_checkpoint(str(pipeline / "results" / "checkpoint" / "model.ckpt"))
    kernel = reader.get_tensor("conv_1/kernel")
    slices_ = pd.read_csv(pipeline / "results" / "slices" / "seed.csv", dtype={"index": str})
    probe = slices_[(slices_["state"] == "saved") & (slices_["tensor"] == "conv_1/kernel/read:0")]
    from_csv = probe["value"].to_numpy(np.float64).astype(np.float32)
    assert from_csv.tobytes() == kernel[1, :, :, 1].ravel().tobytes()
    coordinates = slices.coordinates("[1, :, :, 1]", kernel.shape)
    assert probe["index"].tolist() == [",".join(map(str, c)) for c in coordinates]


def expected_totals(config, seed_entry):
    """The judged probe and variable outcomes of the default run, and the orderings that
    restore every variable, from the orderings each format has and what their steps leave."""
    names = list(network.variable_shapes(config["model"]["extra_layers"]))
    every = [o for entry in config["checkpoints"] for o in entry["orderings"]]
    restoring = 0
    for ordering in every:
        extra = [EXTRA_VARIABLE] if with_extra_variable(ordering) else []
        outcomes = orderings.expected_outcomes(
            ordering, names + extra, seed_entry["partial_variables"], mapped=names, saved=names
        )
        restoring += set(outcomes.values()) == {orderings.RESTORED}
    extra_variables = sum(map(with_extra_variable, every))
    return len(every) * len(config["probes"]), len(every) * len(names) + extra_variables, restoring


def with_extra_variable(ordering):
    """Whether an ordering restores into the network with one variable more."""
    return getattr(orderings.ordering(ordering).run, "extra_variable", False)


def test_the_run_ends_with_the_answer(pipeline, config, seed_entry):
    terminal = (pipeline / "run.terminal").read_text().rstrip()
    verified = (pipeline / "results" / "verified.txt").read_text().rstrip()
    assert terminal.endswith(verified)
    answer = verified.split("\n\n")[0]
    assert answer.startswith("Outcomes per checkpoint, ordering and probe") and PARTIAL in answer
    probes, variables, restoring = expected_totals(config, seed_entry)
    assert f"all {probes} judged probe and {variables} judged variable outcomes" in verified
    assert f"The {restoring} orderings that restore every variable give the built" in verified


def test_the_docs_show_the_answer_a_run_ends_with(pipeline):
    """docs/reference.md shows the whole answer, the README its first table."""
    verified = (pipeline / "results" / "verified.txt").read_text().rstrip().splitlines()
    shown = [f"    {line}".rstrip() for line in verified]
    first_table = shown[: shown.index("")]
    for doc, expected in (("docs/reference.md", shown), ("README.md", first_table)):
        lines = (pipeline / doc).read_text().splitlines()
        start = lines.index(shown[0])
        assert lines[start : start + len(expected)] == expected, doc


def test_provenance_records_versions_and_config(pipeline):
    provenance = json.loads((pipeline / "results" / "provenance.json").read_text())
    assert provenance["config"]["seed"] == 42
    assert provenance["versions"]["tensorflow"] == tf.__version__
    assert set(provenance["versions"]) == {"python", "tensorflow", "numpy", "pandas", "snakemake"}


def test_a_second_run_has_nothing_to_do(pipeline):
    result = snakemake(pipeline, "--cores", "4", "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_lint_passes(pipeline):
    snakemake(pipeline, "--lint")


def test_results_hold_only_declared_outputs(pipeline):
    leftovers = [p for p in (pipeline / "results").rglob("*") if ".tmp" in p.name]
    assert leftovers == []


def test_tensorflow_steps_log_their_last_line_before_the_fast_exit(pipeline):
    logs = pipeline / "results" / "logs"
    last_words = {logs / "build.log": "build: wrote"}
    last_words |= {log: "restore: read" for log in (logs / "restore").glob("*.log")}
    assert len(last_words) == 2
    for log, words in last_words.items():
        last_line = log.read_text().splitlines()[-1]
        assert last_line.startswith(words), (log, last_line)


def test_tensorflow_steps_log_only_their_own_lines(pipeline):
    """TensorFlow's start-up notices (absl, CUDA, deprecations) are kept out of the logs and
    the terminal; every line the build and restore jobs log is their own."""
    logs = pipeline / "results" / "logs"
    own = {logs / "build.log": "build: "}
    own |= {log: "restore: " for log in (logs / "restore").glob("*.log")}
    for log, prefix in own.items():
        for line in log.read_text().splitlines():
            assert line.startswith(prefix), (log, line)
    terminal = (pipeline / "run.terminal").read_text()
    assert "absl" not in terminal and "cuda" not in terminal.lower()


def test_each_format_ends_as_its_variant_and_load_say(pipeline):
    """The SavedModel's and the frozen GraphDef's orderings, variable by variable: main_op()
    wipes on loader.load, tf.saved_model.load's restore keeps, main_op_with_restore's init op
    is refused (it restores from another file)."""
    variables = pd.read_csv(pipeline / "results" / "variables.csv", keep_default_na=False)
    rows = variables[variables["format"] != "ckpt"].set_index(["variant", "ordering", "variable"])
    kernel, bias = "conv_1/kernel", "conv_1/bias"
    assert rows.loc[("no_init_op", "loader_load", kernel), "outcome"] == "restored"
    assert rows.loc[("main_op", "loader_load", kernel), "outcome"] == "reinitialized"
    assert rows.loc[("main_op", "loader_load_then_init", kernel), "outcome"] == "changed"
    assert rows.loc[("main_op", "loader_load_then_init", bias), "outcome"] == "reinitialized"
    assert rows.loc[("main_op", "load_v2_restore", kernel), "outcome"] == "restored"
    assert rows.loc[("main_op", "load_v2_global_init", kernel), "outcome"] == "uninitialized"
    failed = rows.loc[("main_op_with_restore", "loader_load", kernel)]
    assert failed["outcome"] == "failed" and failed["error"].startswith("refused by the guard: ")
    assert rows.loc[("after_restore", "import_graph_def", kernel), "outcome"] == "restored"
    frozen_after_init = ("after_restore_then_init", "import_graph_def", kernel)
    assert rows.loc[frozen_after_init, "outcome"] == "reinitialized"


def test_the_output_is_the_saved_models_wherever_every_variable_is_restored(pipeline):
    blank = {"variant": "", "error": ""}
    inference = pd.read_csv(pipeline / "results" / "inference.csv").fillna(blank)
    variables = pd.read_csv(pipeline / "results" / "variables.csv").fillna(blank)
    # The network's own variables: the one object_ckpt adds in one ordering is not an input.
    variables = variables[variables["variable"].isin(network.variable_shapes())]
    keys = ["format", "variant", "ordering"]
    restored = (variables["outcome"] == "restored").groupby([variables[k] for k in keys]).all()
    checked = inference.join(restored.rename("restored"), on=keys)
    assert len(checked) == len(variables) // len(network.variable_shapes())
    assert (checked["bit_equal"] == checked["restored"]).all()
    assert (checked.loc[checked["restored"], "max_abs_diff"] == 0.0).all()
    assert (checked.loc[~checked["restored"] & (checked["error"] == ""), "max_abs_diff"] > 0).all()


def test_tf2_orderings_carry_what_each_status_assertion_gave(pipeline, config, tmp_path):
    """object_ckpt's rows hold each assertion's result (TensorFlow 2.21's, which the README
    explains), the other formats' rows none; verify fails where a result differs."""
    results = pipeline / "results"
    report = pd.read_csv(results / "report.csv", keep_default_na=False)
    tf2 = report[report["format"] == "object_ckpt"].drop_duplicates(["variant", "ordering"])
    found = {
        f"{row.variant}.{row.ordering}": tuple(getattr(row, c) for c in object_ckpt.STATUS_CHECKS)
        for row in tf2.itertuples()
    }
    assert found == {name: o.status for name, o in object_ckpt.ORDERINGS.items()}
    assert (
        report.loc[report["format"] != "object_ckpt", list(object_ckpt.STATUS_CHECKS)] == ""
    ).all(axis=None)
    variables = pd.read_csv(results / "variables.csv", keep_default_na=False)
    extra = variables[variables["variable"] == "extra/bias"]
    assert extra[["ordering", "outcome"]].values.tolist() == [
        ["initialize_or_restore_extra_variable", "reinitialized"]
    ]
    changed = tf2.index[0]
    report.loc[changed, "assert_consumed"] = "ValueError"
    report.to_csv(tmp_path / "report.csv", index=False)
    verify = subprocess.run(
        [
            *(sys.executable, pipeline / "scripts" / "verify.py"),
            *("--report", tmp_path / "report.csv", "--variables", results / "variables.csv"),
            *("--inference", results / "inference.csv", "--output", tmp_path / "verified.txt"),
            *("--compatibility", results / "compatibility.csv"),
            *("--settings", step_settings.verify_settings(config)),
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 1
    assert (
        "seed object_ckpt model init_then_run_restore_ops: assert_consumed gave ValueError,"
        " expected passes" in verify.stderr
    )
