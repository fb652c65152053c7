"""extract.py, report.py and verify.py on values files made with numpy (no TensorFlow)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import extract
import report
from ckptorder import network
from ckptorder.orderings import ordering_of
from ckptorder.values import Values, write_values
from conftest import PROJECT

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
    """saved and initial values, and three states: one restored, one reinitialised, one
    that is neither (only conv_1/bias differs, by the sign of a zero)."""
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


def run_extract(directory, state, probes):
    output = directory / "slices" / f"{state}.csv"
    extract.main(
        [
            "--state",
            state,
            "--values",
            str(directory / f"{state}.npz"),
            "--saved",
            str(directory / "saved.npz"),
            "--initial",
            str(directory / "initial.npz"),
            "--settings",
            json.dumps({"probes": probes}),
            "--output",
            str(output),
        ]
    )
    return output


def test_csv_values_read_back_bit_for_bit(tmp_path):
    bias = np.zeros(32, np.float32)
    bias[: SPECIAL.size] = SPECIAL
    rng = np.random.default_rng(1)
    kernel = rng.integers(0, 2**32, size=864, dtype=np.uint32).view(np.float32).reshape(3, 3, 3, 32)
    kernel = np.where(np.isnan(kernel), np.float32(1.5), kernel)  # NaN payloads are not kept
    for name in ("saved", "initial"):
        write_values(tmp_path / f"{name}.npz", [("conv_1/bias", bias), ("conv_1/kernel", kernel)])
    probes = [
        {"tensor": "conv_1/bias", "slice": "[...]"},
        {"tensor": "conv_1/kernel:0", "slice": "[...]"},
    ]
    shapes = {"conv_1/bias": (32,), "conv_1/kernel": (3, 3, 3, 32)}
    frame = report.read_slices([run_extract(tmp_path, "saved", probes)], probes, shapes)
    values = frame["value"].to_numpy()
    assert values.dtype == np.float32
    assert values[:32].tobytes() == bias.tobytes()
    assert values[32:].tobytes() == kernel.ravel().tobytes()
    assert frame["index"].iloc[33] == "0,0,0,1"


def test_extract_writes_tidy_rows_with_full_coordinates(states):
    probes = [{"tensor": "conv_1/kernel/read:0", "slice": "[1, :, :, 1]"}]
    rows = pd.read_csv(run_extract(states, INIT_ONLY, probes), dtype=str)
    assert list(rows.columns) == ["state", "tensor", "slice", "index", "value"]
    assert len(rows) == 9
    assert rows["index"].tolist()[:4] == ["1,0,0,1", "1,0,1,1", "1,0,2,1", "1,1,0,1"]
    assert set(rows["state"]) == {INIT_ONLY}


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
    write_values(tmp_path / "tiny.npz", [("tiny", np.zeros(4, np.float32))])
    write_values(
        tmp_path / "big.npz",
        ((f"big_{n}", np.full(size // 4, 0.5, np.float32)) for n in range(3)),
    )

    def extract_peak(values, tensor):
        path = str(tmp_path / values)
        settings = json.dumps({"probes": [{"tensor": tensor, "slice": "[:4]"}]})
        script = str(PROJECT / "scripts" / "extract.py")
        arguments = ["--values", path, "--saved", path, "--initial", path, "--state", "saved"]
        output = str(tmp_path / f"{tensor}.csv")
        return peak_rss(
            [sys.executable, script, *arguments, "--settings", settings, "--output", output]
        )

    interpreter = extract_peak("tiny.npz", "tiny")
    assert extract_peak("big.npz", "big_1") - interpreter <= 2 * size
    assert (tmp_path / "big_1.csv").read_text().count("\n") == 5


# What the report is given besides its orderings and probes, where a test does not say.
REPORT_SETTINGS = {"partial_variables": [], "expected": {}, "config": {}, "snakemake": "9"}


def make_report(states, settings, probes):
    names = ["saved", "initial", RESTORE_ONLY, INIT_ONLY, INIT_THEN_RESTORE]
    slices = [run_extract(states, name, probes) for name in names]
    outputs = {key: states / f"{key}.out" for key in ("report", "variables", "provenance")}
    report.main(
        [
            "--settings",
            json.dumps({**REPORT_SETTINGS, **settings, "probes": probes}),
            "--slices",
            *map(str, slices),
            "--values",
            *(str(states / f"{name}.npz") for name in names),
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


def run_verify(directory, outputs):
    return subprocess.run(
        [
            sys.executable,
            str(PROJECT / "scripts" / "verify.py"),
            "--report",
            str(outputs["report"]),
            "--variables",
            str(outputs["variables"]),
            "--output",
            str(directory / "verified.txt"),
        ],
        capture_output=True,
        text=True,
    )


def test_verify_names_each_unexpected_row_and_keeps_the_report(states):
    _, _, outputs = make_report(states, SETTINGS, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 1
    row = f"{INIT_THEN_RESTORE} conv_1/bias [0:2]: outcome changed, expected restored"
    assert f"{outputs['report']}: {row}" in result.stderr
    assert (
        f"{outputs['variables']}: {INIT_THEN_RESTORE} conv_1/bias: outcome changed" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "error: verify found 2 unexpected or inconclusive outcome(s)"
    )
    assert "changed (UNEXPECTED)" in result.stdout
    assert outputs["report"].exists() and not (states / "verified.txt").exists()


def test_verify_fails_an_inconclusive_probe(states):
    (states / "initial.npz").write_bytes((states / "saved.npz").read_bytes())
    _, _, outputs = make_report(states, {"orderings": [RESTORE_ONLY]}, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 1
    assert "inconclusive: probe conv_1/kernel/read:0 [1, :, :, 1] holds the same saved" in (
        result.stderr
    )


def test_verify_passes_and_writes_the_table(states):
    _, _, outputs = make_report(states, {"orderings": [RESTORE_ONLY, INIT_ONLY]}, PROBES)
    result = run_verify(states, outputs)
    assert result.returncode == 0, result.stderr
    assert "reinitialized" in result.stdout
    verified = (states / "verified.txt").read_text()
    assert result.stdout.strip() in verified
    assert "all 4 probe and 12 variable outcomes as expected" in verified
    assert f"Open next:\n  {outputs['report']}" in verified


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
