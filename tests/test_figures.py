"""figures.py's helpers that need no pipeline run."""

import struct

import pytest

import figures
from ckptorder import figure_layout


@pytest.mark.parametrize(
    ("limit", "tick"), [(0.0866, 0.08), (0.00032, 0.0003), (0.0151, 0.01), (1.0, 1.0), (7.5, 7)]
)
def test_colour_bar_ticks_are_rounded_down_to_one_digit(limit, tick):
    assert figure_layout.round_down(limit) == pytest.approx(tick)
    assert figure_layout.round_down(limit) <= limit


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
    inches = figure_layout.outcomes_size(orderings, range(figure_layout.COUNTS_WIDTH))
    assert (width, height) == tuple(round(100 * x) for x in inches)
    assert width <= 2000


def png_size(path):
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.mark.parametrize("long", [False, True])
def test_column_labels_wider_than_a_cell_are_slanted_with_room_for_them(tmp_path, long):
    names = [f"model/_operations/{n}/_kernel" if long else f"conv_{n}/kernel" for n in range(3)]
    rows = [
        {"checkpoint": "c", "format": "ckpt", "variant": "", "ordering": "restore_only"}
        | {"variable": name, "outcome": "restored"}
        for name in names
    ]
    path = tmp_path / "outcomes.png"
    figures.draw_outcomes(rows, "c", "ckpt", path)
    width, height = figure_layout.outcomes_size(["restore_only"], names)
    high, beyond = figure_layout.slanted_labels(names)
    # A slanted label needs room above the cells and right of the last one.
    assert (high > 0, beyond > 0.3) == (long, long)
    assert png_size(path) == (
        round(100 * (width - 0.3 + max(0.3, beyond))),
        round(100 * (height + high)),
    )
