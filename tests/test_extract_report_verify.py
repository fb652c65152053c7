"""extract.py, report.py and verify.py on values files made with numpy (no TensorFlow)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import extract
import report
import verify
from ckptorder import network
from ckptorder.orderings import OUTCOMES, ordering_of
from ckptorder.values import GRAPH_FACTS, Values, write_failure, write_values
from conftest import PROJECT, REPORT_OUTPUTS

RESTORE_ONLY = ordering_of("restore_all")
INIT_ONLY = ordering_of("initialize_all")
INIT_THEN_RESTORE = ordering_of("initialize_all", "restore_all")

SPECIAL = np.array(
    [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 3.4028235e38, 0.1, 1 / 3],
    dtype=np.float32,
)


def model_values(rng):
    return {
        name: rng.standard_normal(shape).astype(np.float32)
        for name, shape in network.variable_shapes().items()
    }


@pytest.fixture
def states(tmp_path):
    """A restore job's folder: saved and initial values, and three states: one restored, one
    reinitialised, one that is neither (only conv_1/bias differs, by the sign of a zero)."""
    tmp_path = tmp_path / "values"
    tmp_path.mkdir()
    facts = {
        "unseeded": {},
        "random": [],
        "constant": [],
        "unlisted": [],
        "aliases": {},
        "compatibility": [],
        "suggested_map": {},
    }
    (tmp_path / GRAPH_FACTS).write_text(json.dumps(facts))
    rng = np.random.default_rng(7)
    saved, initial = model_values(rng), model_values(rng)
    write_values(tmp_path / "initial.npz", initial.items())
    saved["conv_1/bias"][0] = 0.0
    signed = saved["conv_1/bias"].copy()
    signed[0] = -0.0
    write_values(tmp_path / "saved.npz", saved.items())
    write_values(tmp_path / f"{RESTORE_ONLY}.npz", [(name, "saved") for name in saved])
    write_values(tmp_path / f"{INIT_ONLY}.npz", [(name, "initial") for name in saved])
    write_values(
        tmp_path / f"{INIT_THEN_RESTORE}.npz",
        [(n, signed if n == "conv_1/bias" else "saved") for n in saved],
    )
    return tmp_path


def run_extract(directory, states, probes):
    """extract.py on the folder `directory` (saved, initial, then `states`)."""
    output = directory.parent / "slices.csv"
    settings = {"checkpoint": "c", "states": ["saved", "initial", *states], "probes": probes}
    extract.main(
        ["--values", str(directory), "--settings", json.dumps(settings), "--output", str(output)]
    )
    return output


def test_csv_values_read_back_bit_for_bit(tmp_path):
    bias = np.zeros(32, np.float32)
    bias[: SPECIAL.size] = SPECIAL
    rng = np.random.default_rng(1)
    kernel = rng.integers(0, 2**32, size=864, dtype=np.uint32).view(np.float32).reshape(3, 3, 3, 32)
    kernel = np.where(np.isnan(kernel), np.float32(1.5), kernel)  # NaN payloads are not kept
    for name in ("saved", "initial"):
        path = tmp_path / "values" / f"{name}.npz"
        write_values(path, [("conv_1/bias", bias), ("conv_1/kernel", kernel)])
    probes = [
        {"tensor": "conv_1/bias", "slice": "[...]"},
        {"tensor": "conv_1/kernel:0", "slice": "[...]"},
    ]
    shapes = {"conv_1/bias": (32,), "conv_1/kernel": (3, 3, 3, 32)}
    frame = report.read_slices(run_extract(tmp_path / "values", [], probes), probes, shapes)
    values = frame.loc[frame["state"] == "saved", "value"].to_numpy()
    assert values.dtype == np.float32
    assert values[:32].tobytes() == bias.tobytes()
    assert values[32:].tobytes() == kernel.ravel().tobytes()
    assert frame["index"].iloc[33] == "0,0,0,1"


def test_extract_writes_tidy_rows_with_full_coordinates(states):
    probes = [{"tensor": "conv_1/kernel/read:0", "slice": "[1, :, :, 1]"}]
    rows = pd.read_csv(run_extract(states, [INIT_ONLY], probes), dtype=str)
    assert list(rows.columns) == ["state", "tensor", "slice", "index", "value"]
    assert len(rows) == 3 * 9
    assert rows["index"].tolist()[:4] == ["1,0,0,1", "1,0,1,1", "1,0,2,1", "1,1,0,1"]
    assert rows["state"].unique().tolist() == ["saved", "initial", INIT_ONLY]


def test_a_probe_of_a_variable_the_graph_lacks_names_the_checkpoint(states, capsys):
    with pytest.raises(SystemExit):
        run_extract(states, [], [{"tensor": "dense/kernel", "slice": "[0]"}])
    err = capsys.readouterr().err
    assert "probes of checkpoint c: tensor 'dense/kernel' is not in the model" in err
    assert "it has: conv_1/kernel, conv_1/bias" in err


def peak_rss(command):
    """Peak resident bytes of `command`, run as the only child of a fresh interpreter."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *command], capture_output=True, text=True, check=True
    )
    return int(result.stdout) * 1024  # ru_maxrss is in KiB on Linux


def test_extract_holds_only_the_probed_tensor(tmp_path):
    """Peak memory within the interpreter (extract of a file of one tiny tensor) plus 2x the
    largest probed tensor: of a file of three 64 MiB tensors, the two it does not probe are
    never read and the probed one is read once."""
    size = 64 << 20
    for name, entries in {
        "tiny": [("tiny", np.zeros(4, np.float32))],
        "big": ((f"big_{n}", np.full(size // 4, 0.5, np.float32)) for n in range(3)),
    }.items():
        (tmp_path / name).mkdir()
        write_values(tmp_path / name / "initial.npz", entries)
        write_values(tmp_path / name / "saved.npz", [])

    def extract_peak(folder, tensor):
        settings = {
            "checkpoint": folder,
            "states": ["saved", "initial"],
            "probes": [{"tensor": tensor, "slice": "[:4]"}],
        }
        script = str(PROJECT / "scripts" / "extract.py")
        arguments = ["--values", str(tmp_path / folder), "--settings", json.dumps(settings)]
        output = str(tmp_path / f"{tensor}.csv")
        return peak_rss([sys.executable, script, *arguments, "--output", output])

    interpreter = extract_peak("tiny", "tiny")
    assert extract_peak("big", "big_1") - interpreter <= 2 * size
    assert (tmp_path / "big_1.csv").read_text().count("\n") == 1 + 2 * 4


# What the report is told of the checkpoint besides its orderings, where a test does not say.
CHECKPOINT = {
    **{"name": "c", "checkpoint": "c", "format": "ckpt", "run": None, "step": None},
    **{"partial_variables": [], "expected": {}},
}


def make_report(states, settings, probes):
    """report.py on the one checkpoint of `states`, `settings` (its orderings and whatever
    differs from CHECKPOINT) and `probes`."""
    checkpoint = {**CHECKPOINT, **settings, "probes": probes}
    slices = run_extract(states, checkpoint["orderings"], probes)
    outputs = {key: states.parent / f"{key}.out" for key in REPORT_OUTPUTS}
    settings = {"checkpoints": [checkpoint], "config": {}, "snakemake": "9"}
    report.main(
        [
            "--settings",
            json.dumps(settings),
            "--slices",
            str(slices),
            "--values",
            str(states),
            *(arg for key, path in outputs.items() for arg in (f"--{key}", str(path))),
        ]
    )
    return pd.read_csv(outputs["report"]), pd.read_csv(outputs["variables"]), outputs


PROBES = [
    {"tensor": "conv_1/kernel/read:0", "slice": "[1, :, :, 1]"},
    {"tensor": "conv_1/bias", "slice": "[0:2]"},
]
SETTINGS = {"orderings": [RESTORE_ONLY, INIT_ONLY, INIT_THEN_RESTORE]}


def test_report_classifies_bitwise(states):
    table, variables, outputs = make_report(states, SETTINGS, PROBES)
    outcome = {(r.ordering, r.tensor): r.outcome for r in table.itertuples()}
    assert outcome == {
        (RESTORE_ONLY, "conv_1/kernel/read:0"): "restored",
        (RESTORE_ONLY, "conv_1/bias"): "restored",
        (INIT_ONLY, "conv_1/kernel/read:0"): "reinitialized",
        (INIT_ONLY, "conv_1/bias"): "reinitialized",
        (INIT_THEN_RESTORE, "conv_1/kernel/read:0"): "restored",
        # 0.0 against -0.0: equal as numbers, a different outcome by bytes.
        (INIT_THEN_RESTORE, "conv_1/bias"): "changed",
    }
    changed = table[(table.ordering == INIT_THEN_RESTORE) & (table.tensor == "conv_1/bias")]
    assert changed["max_abs_diff_vs_saved"].item() == 0.0
    assert changed["as_expected"].item() == np.False_
    assert len(variables) == 3 * 6
    row = variables[
        (variables.ordering == INIT_THEN_RESTORE) & (variables.variable == "conv_1/bias")
    ]
    assert row["outcome"].item() == "changed" and row["source"].item() == "own"
    assert json.loads(outputs["provenance"].read_text())["versions"]["numpy"] == np.__version__


def test_a_nan_equals_itself_in_the_report(states):
    with Values(states / "saved.npz") as saved:
        arrays = {name: saved.read(name) for name in saved.names}
    arrays["conv_1/kernel"][1, 0, 0, 1] = np.nan
    write_values(states / "saved.npz", arrays.items())
    table, _, _ = make_report(states, {"orderings": [RESTORE_ONLY]}, PROBES)
    row = table[table.tensor == "conv_1/kernel/read:0"]
    assert row["outcome"].item() == "restored"
    assert np.isnan(row["max_abs_diff_vs_saved"].item())


def test_expected_outcomes_can_be_overridden(states):
    settings = {
        **SETTINGS,
        "expected": {INIT_THEN_RESTORE: {"conv_1/bias": "changed"}, INIT_ONLY: "changed"},
    }
    table, _, _ = make_report(states, settings, PROBES)
    expected = {(r.ordering, r.tensor): r.expected for r in table.itertuples()}
    assert expected[(INIT_THEN_RESTORE, "conv_1/bias")] == "changed"
    assert expected[(INIT_THEN_RESTORE, "conv_1/kernel/read:0")] == "restored"
    assert expected[(INIT_ONLY, "conv_1/bias")] == "changed"


def run_verify(directory, outputs, outside=(), skipped=None):
    settings = {"outside": list(outside), "skipped": skipped or {}}
    return subprocess.run(
        [
            sys.executable,
            str(PROJECT / "scripts" / "verify.py"),
            "--settings",
            json.dumps(settings),
            "--compatibility",
            str(outputs["compatibility"]),
            "--report",
            str(outputs["report"]),
            "--variables",
            str(outputs["variables"]),
            "--inference",
            str(outputs["inference"]),
            "--output",
            str(directory.parent / "verified.txt"),
        ],
        capture_output=True,
        text=True,
    )


def test_verify_names_each_unexpected_row_and_keeps_the_report(states):
    _, _, outputs = make_report(states, SETTINGS, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 1
    row = f"c {INIT_THEN_RESTORE} conv_1/bias [0:2]: outcome changed, expected restored"
    assert f"{outputs['report']}: {row}" in result.stderr
    row = f"c {INIT_THEN_RESTORE} conv_1/bias: outcome changed"
    assert f"{outputs['variables']}: {row}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "error: verify found 2 unexpected or inconclusive outcome(s)"
    )
    assert "changed (UNEXPECTED)" in result.stdout
    assert outputs["report"].exists() and not (states.parent / "verified.txt").exists()


def test_verify_fails_an_inconclusive_probe(states):
    (states / "initial.npz").write_bytes((states / "saved.npz").read_bytes())
    _, _, outputs = make_report(states, {"orderings": [RESTORE_ONLY]}, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 1
    assert "inconclusive: c's probe conv_1/kernel/read:0 [1, :, :, 1] holds the same saved" in (
        result.stderr
    )


def test_verify_passes_and_writes_the_table(states):
    _, _, outputs = make_report(states, {"orderings": [RESTORE_ONLY, INIT_ONLY]}, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 0, result.stderr
    assert "reinitialized" in result.stdout
    verified = (states.parent / "verified.txt").read_text()
    assert result.stdout.strip() in verified
    assert "all 4 judged probe and 12 judged variable outcomes as expected." in verified
    assert f"Open next:\n  {outputs['report']}" in verified


def test_states_without_values_are_failed_and_uninitialized(states):
    """An ordering that raised leaves every variable `failed`, with its error; a variable the
    ordering left unreadable is `uninitialized`; a variable the checkpoint lacks can't be
    restored. The probes of those states are nan in the slice CSV."""
    error = "NotFoundError: Key conv_1/bias not found in checkpoint"
    write_failure(states / f"{RESTORE_ONLY}.npz", network.variable_shapes(), error)
    with Values(states / "saved.npz") as saved:
        kept = {name: saved.read(name) for name in saved.names if name != "conv_2/bias"}
    write_values(states / "saved.npz", kept.items())
    write_values(
        states / f"{INIT_ONLY}.npz",
        [
            (name, "uninitialized" if name == "conv_1/bias" else "initial")
            for name in network.variable_shapes()
        ],
    )
    table, variables, _ = make_report(states, {"orderings": [RESTORE_ONLY, INIT_ONLY]}, PROBES)
    outcome = {(r.ordering, r.tensor): (r.outcome, r.error) for r in table.itertuples()}
    assert outcome[RESTORE_ONLY, "conv_1/bias"] == ("failed", error)
    assert outcome[INIT_ONLY, "conv_1/bias"] == ("uninitialized", np.nan)
    assert outcome[INIT_ONLY, "conv_1/kernel/read:0"] == ("reinitialized", np.nan)
    lacking = variables[variables.variable == "conv_2/bias"].set_index("ordering")
    assert not lacking["equal_to_saved"].any()
    assert lacking.loc[INIT_ONLY, "outcome"] == "reinitialized"
    assert lacking.loc[RESTORE_ONLY, "outcome"] == "failed"
    slices = pd.read_csv(states.parent / "slices.csv")
    assert slices.loc[slices.state.isin([RESTORE_ONLY]), "value"].isna().all()
    assert not slices.loc[slices.state == "saved", "value"].isna().any()


def test_a_checkpoint_without_expected_is_reported_not_judged(states):
    _, variables, outputs = make_report(states, {**SETTINGS, "expected": None}, PROBES)
    table = pd.read_csv(outputs["report"])
    assert table["expected"].isna().all() and table["as_expected"].isna().all()
    assert "changed" in set(table["outcome"])
    skipped = {"c": ["partial_restore", "restore_moving_averages"]}
    result = run_verify(states, outputs, outside=["c"], skipped=skipped)
    assert result.returncode == 0, result.stderr
    verified = (states.parent / "verified.txt").read_text()
    assert "verify: nothing judged (no checkpoint sets expected); reported, not judged" in verified
    assert "reported, not judged (no expected): c." in verified
    assert "c: partial_restore not run: its entry sets no partial_restore.variables" in verified
    assert "moving_averages" not in verified, "said only of a checkpoint that holds some"
    counts = verified.split("Variables per outcome: c, 6 variables", 1)[1].split("\n\n")[0]
    outcomes = sorted(set(variables["outcome"]), key=OUTCOMES.index)
    assert counts.splitlines()[1].split() == ["variables", *outcomes]
    assert "all 0 judged" not in verified and "Warning" not in result.stderr


@pytest.mark.parametrize("script", ["extract", "report", "verify", "figures"])
def test_numpy_steps_never_import_tensorflow(states, script):
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['{script}', '--help']\n"
        f"sys.path.insert(0, {str(PROJECT / 'scripts')!r})\n"
        f"import {script}\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_verify_warns_where_a_graph_shares_few_variables_with_its_checkpoint():
    rows = [("mine", f"v{n}", "match" if n < 1 else "missing_in_checkpoint", "") for n in range(5)]
    rows += [("mine", "w", "missing_in_checkpoint", "old/w"), ("mine", "", "unused_key", "")]
    rows += [("seed", "conv_1/kernel", "match", "")]
    columns = ["checkpoint", "variable", "status", "suggested_key"]
    assert verify.few_shared(pd.DataFrame(rows, columns=columns)) == [
        "WARNING: mine: only 2 of its graph's 6 variables are in the checkpoint, under their name"
        " or a suggested one, with their shape: is its graph the one the checkpoint was saved"
        " from? (results/compatibility.csv)"
    ]


@pytest.mark.parametrize(
    "held", [np.arange(6.0).reshape(3, 2), np.arange(3.0)], ids=["cols", "rank"]
)
def test_a_probe_of_a_variable_holding_another_shape_is_nan_outside_it(tmp_path, held):
    """A resource variable restored from a tensor of another shape holds that shape: the
    probe's elements it lacks are nan, the others its values."""
    write_values(tmp_path / "after.npz", [("k", held.astype(np.float32))])
    with Values(tmp_path / "after.npz") as values:
        probe = {"tensor": "k", "slice": "[1, :]"}
        rows = list(extract.probe_rows("after", values, probe, ("k", (3, 4))))
    got = [row[-1] for row in rows]
    expected = [2.0, 3.0] if held.ndim == 2 else []
    assert [float(v) for v in got[: len(expected)]] == expected
    assert all(np.isnan(float(v)) for v in got[len(expected) :])


def test_the_signature_line_says_why_a_check_did_not_run():
    """A SavedModel's line in the answer counts its loads, and names the first signature
    check that did not run and why, in one line."""
    refused = "refused by the guard: f/w: WriteFile writes files"
    inference = pd.DataFrame(
        {
            "checkpoint": ["mine"] * 3,
            "format": ["savedmodel"] * 3,
            "variant": ["tf2"] * 3,
            "ordering": ["loader_load", "load_v2_restore", "load_v2_eager"],
            "output": ["serving_default/y"] * 3,
            "error": ["", refused, "InvalidArgumentError: no"],
            "bit_equal": [True, False, False],
        }
    )
    [line] = verify.signature_lines(inference)
    assert line == (
        "mine: its signatures' outputs (1) after each of 3 loads: the reference's bit for bit"
        f" after 1, different after 0, not run after 2 (inference.csv). Not checked: {refused}."
    )
    [line] = verify.signature_lines(inference.iloc[:1])
    assert line.endswith("not run after 0 (inference.csv).")


def test_a_signature_that_raised_after_a_full_restore_is_said_to_have_raised():
    """Where every variable was restored and the signature raised, nothing ran to differ: the
    line says it raised, with its error; one that ran and differs says so, with how much."""
    raised = "InvalidArgumentError: Could not parse example input"
    inference = pd.DataFrame(
        {
            "checkpoint": ["mine"] * 2,
            "format": ["savedmodel"] * 2,
            "variant": ["tf1"] * 2,
            "ordering": ["loader_load", "load_v2_eager"],
            "output": ["serving_default/y"] * 2,
            "error": [raised, ""],
            "bit_equal": [False, False],
            "max_abs_diff": [np.nan, 0.5],
        }
    )
    variables = inference[["checkpoint", "format", "variant", "ordering"]].assign(
        variable="dense/kernel", outcome="restored", expected="restored"
    )
    assert verify.inference_problems(inference, variables, "inference.csv") == [
        "inference.csv: mine savedmodel tf1 loader_load serving_default/y: every variable"
        f" restored, yet it raised ({raised})",
        "inference.csv: mine savedmodel tf1 load_v2_eager serving_default/y: every variable"
        " restored, yet the output differs from the saved model's (max_abs_diff 0.5)",
    ]
