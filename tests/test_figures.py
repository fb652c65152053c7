"""figures.py's helpers that need no pipeline run."""

import pytest

import figures


@pytest.mark.parametrize(
    ("limit", "tick"), [(0.0866, 0.08), (0.00032, 0.0003), (0.0151, 0.01), (1.0, 1.0), (7.5, 7)]
)
def test_colour_bar_ticks_are_rounded_down_to_one_digit(limit, tick):
    assert figures.round_down(limit) == pytest.approx(tick)
    assert figures.round_down(limit) <= limit
