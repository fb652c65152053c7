"""figures.py's helpers that need no pipeline run."""

import struct

import pytest

import figures


@pytest.mark.parametrize(
    ("limit", "tick"), [(0.0866, 0.08), (0.00032, 0.0003), (0.0151, 0.01), (1.0, 1.0), (7.5, 7)]
)
def test_colour_bar_ticks_are_rounded_down_to_one_digit(limit, tick):
    assert figures.round_down(limit) == pytest.approx(tick)
    assert figures.round_down(limit) <= limit


@pytest.mark.parametrize("count", [13, 5000])
def test_the_outcomes_figure_of_many_variables_counts_them_at_one_width(tmp_path, count):
    orderings = ["restore_only", "init_only"]
    rows = [
        {"checkpoint": "big", "format": "ckpt", "variant": "", "ordering": o, "variable": f"v{n}"}
        | {"outcome": "restored" if o == "restore_only" or n < 3 else "reinitialized"}
        for o in orderings
        for n in range(count)
    ]
    path = tmp_path / "outcomes.png"
    figures.draw_outcomes(rows, "big", "ckpt", path)
    data = path.read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    inches = figures.outcomes_size(orderings, range(figures.COUNTS_WIDTH))
    assert (width, height) == tuple(round(100 * x) for x in inches)
    assert width <= 2000
