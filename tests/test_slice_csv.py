"""The slice CSV format: values read back bit for bit, and a bad file refused, naming it, by
the one reader both the report and the probes figure use."""

import subprocess
import sys

import numpy as np
import pytest

from ckptorder import orderings, slice_csv
from conftest import PROJECT

PROBES = [
    {"tensor": "conv_1/bias", "slice": "[0:3]"},
    {"tensor": "conv_1/kernel/read:0", "slice": "[1, :, :, 1]"},
]
SHAPES = {"conv_1/bias": (32,), "conv_1/kernel": (3, 3, 3, 32)}


def write_states(directory, states=orderings.REFERENCES):
    """A checkpoint's slice CSV holding every element of PROBES for each state, each value its
    position plus the state's number."""
    elements = slice_csv.probe_elements(PROBES, SHAPES)
    rows = [
        slice_csv.row(
            state,
            {"tensor": tensor, "slice": slice_},
            map(int, index.split(",")),
            np.float32(n + offset),
        )
        for offset, state in enumerate(states)
        for n, (tensor, slice_, index) in enumerate(elements)
    ]
    path = directory / "checkpoint.csv"
    slice_csv.write(path, rows)
    return path


def test_every_float32_reads_back_bit_for_bit(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2**32, size=4000, dtype=np.uint32).view(np.float32)
    special = [0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 3.4028235e38, 0.1, 1 / 3]
    values = np.concatenate([values[~np.isnan(values)], np.float32(special)])
    probe = {"tensor": "x", "slice": "[...]"}
    rows = [slice_csv.row("saved", probe, (n,), value) for n, value in enumerate(values)]
    slice_csv.write(tmp_path / "saved.csv", rows)
    read = np.array([value for *_, value in slice_csv.read(tmp_path / "saved.csv")])
    assert read.dtype == np.float32 and read.tobytes() == values.tobytes()


def test_a_nan_reads_back_as_a_nan(tmp_path):
    probe = {"tensor": "x", "slice": "[0]"}
    slice_csv.write(tmp_path / "saved.csv", [slice_csv.row("saved", probe, (0,), np.nan)])
    [(*_, value)] = slice_csv.read(tmp_path / "saved.csv")
    assert np.isnan(value) and value.dtype == np.float32


def test_elements_are_the_probes_coordinates_in_c_order():
    elements = slice_csv.probe_elements(PROBES, SHAPES)
    assert elements[:4] == [
        ("conv_1/bias", "[0:3]", "0"),
        ("conv_1/bias", "[0:3]", "1"),
        ("conv_1/bias", "[0:3]", "2"),
        ("conv_1/kernel/read:0", "[1, :, :, 1]", "1,0,0,1"),
    ]
    assert len(elements) == 3 + 9


def test_a_file_holding_every_probes_elements_for_each_state_is_read_in_order(tmp_path):
    rows = slice_csv.read(write_states(tmp_path), slice_csv.probe_elements(PROBES, SHAPES))
    assert [row[0] for row in rows] == ["saved"] * 12 + ["initial"] * 12
    assert rows[12][4] == np.float32(1.0)


def cut_short(path):
    path.write_text(path.read_text()[:-5])


def one_row_less(path):
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


def another_header(path):
    path.write_text(path.read_text().replace("state,", "name,", 1))


def a_bad_value(path):
    path.write_text(path.read_text().replace("2.0\n", "two\n", 1))


BAD = {
    "cut short": (cut_short, "cut short (it does not end with a complete line)"),
    "a row missing": (
        one_row_less,
        "does not hold every probe's values for each state (cut short or stale)",
    ),
    "another header": (another_header, "not a slice CSV"),
    "a bad value": (a_bad_value, "line 4 is not a slice CSV row"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_file_is_refused_naming_it(tmp_path, case):
    damage, words = BAD[case]
    path = write_states(tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=f"^{path}: ") as error:
        slice_csv.read(path, slice_csv.probe_elements(PROBES, SHAPES))
    assert words in str(error.value)


def test_without_the_probes_each_state_must_hold_what_the_first_holds(tmp_path):
    path = write_states(tmp_path)
    one_row_less(path)
    with pytest.raises(ValueError, match=f"{path}: does not hold the same elements for each"):
        slice_csv.read(path)


@pytest.mark.parametrize("case", ["cut short", "a row missing"])
def test_the_probes_figure_refuses_a_bad_file_in_one_line(tmp_path, case):
    damage, _ = BAD[case]
    path = write_states(tmp_path)
    damage(path)
    output = tmp_path / "probes.png"
    command = [sys.executable, str(PROJECT / "scripts" / "figures.py"), "probes"]
    options = ["--name", "c", "--output", str(output), "--slices", str(path)]
    result = subprocess.run(
        [*command, *options, "--values", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}: "), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not output.exists() and not list(tmp_path.glob(".probes.png*"))
