"""The figures' layout, in inches: every figure's size, margins and places are fixed here
(a layout engine would cost a second or so a figure), and its PNG written without a timestamp,
so that a figure's bytes depend on its data alone."""

import math

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ckptorder.atomic import atomic_path
from ckptorder.orderings import REFERENCES

CENTRED = {"ha": "center", "va": "center"}
# Layout, in inches at 100 dpi: about 11 inches wide, the width the HTML report shows a figure
# at on a laptop without shrinking it.
LABEL_WIDTH = 2.5
PANEL_WIDTH = 1.6
PANEL_GAP = 0.12
OUTCOME_WIDTH = 1.05
PROBE_WIDTH = 2 * PANEL_WIDTH + PANEL_GAP + OUTCOME_WIDTH
PROBE_GAP = 0.3
ROW_HEIGHT = 0.5
ROW_GAP = 0.1
REFERENCE_GAP = 0.2
HEADER = 1.35
FOOTER = 0.3
CELL_WIDTH = 1.2
# Degrees column labels wider than a cell are slanted by.
SLANT = 30
# Above this many variables, the outcomes figure counts them per outcome instead of drawing a
# cell each, in as many cells' width.
MOST_CELLS = 12
COUNTS_WIDTH = 8
# Inches a character of a 10-point label takes, at most: long labels fit.
CHARACTER_WIDTH = 0.075
# The smallest cell, in inches, that a value is written in.
MIN_CELL_WIDTH = 0.4
MIN_CELL_HEIGHT = 0.15


def probes_size(states, probes):
    """The probes figure's (width, height) in inches: a row per state, two panels per probe."""
    return (
        label_width(states) + probes * PROBE_WIDTH + (probes - 1) * PROBE_GAP + 0.2,
        HEADER + row_tops(states)[-1] + ROW_HEIGHT + FOOTER,
    )


def outcomes_size(orderings, variables):
    """The outcomes figure's (width, height) in inches: a cell per ordering and variable."""
    return len(variables) * CELL_WIDTH + label_width(orderings) + 0.3, len(orderings) * 0.45 + 1.1


def slanted_labels(names):
    """(height above the cells, width right of the last cell's middle), in inches, of the
    column labels slanted SLANT degrees, where the longest is wider than a cell (a TF2
    object's path); (0, 0) where they fit level."""
    longest = CHARACTER_WIDTH * max(map(len, names))
    if longest <= CELL_WIDTH:
        return 0, 0
    angle = math.radians(SLANT)
    return longest * math.sin(angle), longest * math.cos(angle) - CELL_WIDTH / 2 + 0.1


def label_width(labels):
    """Inches left of the panels or cells: room for the longest label."""
    return max(LABEL_WIDTH, CHARACTER_WIDTH * max(map(len, labels)) + 0.15)


def round_down(limit):
    """`limit` rounded down to one significant digit: a short colour bar label."""
    scale = 10 ** math.floor(math.log10(limit))
    return math.floor(limit / scale) * scale


def write_at(figure, size, point, text, **style):
    """`text` centred at `point`, in inches from the figure's top left corner."""
    figure.text(point[0] / size[0], 1 - point[1] / size[1], text, **CENTRED, **style)


def column_axes(figure, size, left, tops):
    """The axes of one column of panels, `left` inches from the figure's left edge."""
    width, height = size
    panels_height = tops[-1] + ROW_HEIGHT
    return figure.add_axes(
        [left / width, FOOTER / height, PANEL_WIDTH / width, panels_height / height]
    )


def row_tops(states):
    """Each state's row, as its distance in inches from the top of the panels: one row
    height and gap apart, with more space between the references and the orderings."""
    tops, top = [], 0.0
    for n in range(len(states)):
        tops.append(top)
        top += ROW_HEIGHT + ROW_GAP + (REFERENCE_GAP if n == len(REFERENCES) - 1 else 0)
    return tops


def new_figure(size, left, right, top, bottom):
    """An Agg figure of `size` inches with fixed margins in inches: a layout engine would
    cost a second or so a figure, the pipeline's slowest step after TensorFlow's."""
    width, height = size
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return figure


def save(figure, path):
    with atomic_path(path) as temporary:
        figure.savefig(
            temporary, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 1}
        )
