"""Draw one of the two figures (matplotlib, Agg), named by the first argument.

`probes`: each probe's slice as a heatmap for saved, initial and every ordering, one colour
scale per probe, each panel titled with its state and outcome. It is drawn from the slice
CSVs alone, with the report's bitwise comparison, so that it runs beside the report rather
than after it. `outcomes`: the outcome of every variable (columns) under every ordering
(rows), from `variables.csv`.
"""

import argparse
import csv
import logging

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ckptorder import slice_csv
from ckptorder.atomic import atomic_path
from ckptorder.cli import fail
from ckptorder.orderings import REFERENCES, observed_outcome
from ckptorder.values import bitwise_equal

OUTCOME_COLOURS = {"restored": "#1b9e77", "reinitialized": "#d95f02", "changed": "#7570b3"}
# Panels with at most this many values print them in their cells.
ANNOTATE_UP_TO = 25
# Blank space between a row's panels, as a fraction of a panel's width.
PANEL_GAP = 0.08


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_panels(paths):
    """Every (state, tensor, slice) of the slice CSVs as a 2-D float32 panel. The report
    checks these files beside this step, not before it, so they are read with the same
    checks. Raises ValueError for a bad file or without the references' files."""
    elements = {}
    for state, tensor, slice_, index, value in slice_csv.read(paths):
        elements.setdefault((state, tensor, slice_), []).append((index, value))
    states = {state for state, _, _ in elements}
    if not states.issuperset(REFERENCES):
        raise ValueError("--slices must include the saved and the initial state's CSV")
    return {key: panel(items) for key, items in elements.items()}


def panel(elements):
    """A slice's (index, value) pairs as a row for 1-D slices, the trailing axes folded for
    more. The shape is read off the elements' coordinates (axes along which they vary), in
    the C order extract writes them."""
    coordinates = np.array([index.split(",") for index, _ in elements], dtype=np.int64)
    shape = [n for n in (len(np.unique(axis)) for axis in coordinates.T) if n > 1]
    values = np.array([value for _, value in elements], dtype=np.float32)
    return values.reshape(1, -1) if len(shape) < 2 else values.reshape(shape[0], -1)


def unique(rows, column):
    """The values of `column`, each once, in the order of the rows."""
    return list(dict.fromkeys(row[column] for row in rows))


def panel_title(state, values):
    """A panel's state and what it holds: for an ordering, its outcome on this probe."""
    if state in REFERENCES:
        return f"{state}\nreference"
    equal = (bitwise_equal(values[state], values[reference]) for reference in REFERENCES)
    return f"{state}\n{observed_outcome(*equal)}"


def draw_probes(panels, path):
    """Per probe, two rows of heatmaps: the values, and the values minus the saved ones (a
    restored panel is blank there, a re-initialised one shows what initialisation put back)."""
    keys = list(panels)
    probes = list(dict.fromkeys((tensor, slice_) for _, tensor, slice_ in keys))
    orderings = dict.fromkeys(state for state, _, _ in keys if state not in REFERENCES)
    states = [*REFERENCES, *orderings]
    size = (2.1 * len(states) + 1.5, 4.4 * len(probes) + 0.6)
    figure = new_figure(size, left=0.9, right=1.0, top=0.85, bottom=0.15)
    axes = figure.subplots(2 * len(probes), 1, squeeze=False, gridspec_kw={"hspace": 0.3})[:, 0]
    for number, (tensor, slice_) in enumerate(probes):
        values = {state: panels[state, tensor, slice_] for state in states}
        differences = {state: values[state] - values["saved"] for state in states}
        titles = {state: panel_title(state, values) for state in states}
        value_row, difference_row = axes[2 * number], axes[2 * number + 1]
        draw_row(figure, value_row, values, titles, "value", "{:.3f}")
        draw_row(figure, difference_row, differences, None, "value - saved", "{:+.1e}")
        value_row.set_ylabel(f"{tensor}\n{slice_}\nvalue", fontsize=8)
        difference_row.set_ylabel(f"{tensor}\n{slice_}\nvalue - saved", fontsize=8)
    figure.suptitle(
        "Probed values after each ordering: the same as saved (restored) or as initial "
        "(reinitialized)",
        fontsize=11,
    )
    save(figure, path)


def draw_row(figure, ax, panels, titles, label, cell_format):
    """One heatmap per state on one symmetric colour scale, values printed in small panels.
    All panels of a row share one axes, side by side: an axes per panel cost most of this
    step's time."""
    finite = np.concatenate([p[np.isfinite(p)] for p in panels.values()])
    limit = float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0
    height, width = next(iter(panels.values())).shape
    gap = width * PANEL_GAP
    for n, (state, panel) in enumerate(panels.items()):
        left = n * (width + gap) - 0.5
        extent = (left, left + width, height - 0.5, -0.5)
        image = ax.imshow(
            panel, cmap="RdBu_r", vmin=-limit, vmax=limit, extent=extent, interpolation="nearest"
        )
        ax.add_patch(Rectangle((left, -0.5), width, height, fill=False, linewidth=0.8))
        if titles:
            ax.annotate(
                titles[state].replace("_", " "),
                (left + width / 2, -0.5),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        if panel.size <= ANNOTATE_UP_TO:
            for (i, j), value in np.ndenumerate(panel):
                text = "0" if value == 0 else cell_format.format(value)
                ax.text(left + 0.5 + j, i, text, ha="center", va="center", fontsize=6)
    ax.set_xlim(-0.5, len(panels) * (width + gap) - gap - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_aspect("auto")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)
    figure.colorbar(image, ax=ax, shrink=0.8, fraction=0.03, pad=0.01, label=label)


def draw_outcomes(variables, path):
    orderings, names = unique(variables, "ordering"), unique(variables, "variable")
    codes = {outcome: n for n, outcome in enumerate(OUTCOME_COLOURS)}
    grid = np.full((len(orderings), len(names)), -1)
    for row in variables:
        grid[orderings.index(row["ordering"]), names.index(row["variable"])] = codes[row["outcome"]]
    size = (1.3 * len(names) + 3.5, 0.5 * len(orderings) + 2.2)
    figure = new_figure(size, left=2.3, right=1.5, top=0.5, bottom=1.2)
    ax = figure.subplots()
    ax.imshow(
        grid,
        cmap=ListedColormap(list(OUTCOME_COLOURS.values())).with_extremes(under="white"),
        vmin=0,
        vmax=len(codes) - 1,
        aspect="auto",
    )
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(orderings)), orderings, fontsize=8)
    ax.set_xlabel("variable")
    ax.set_ylabel("ordering")
    ax.set_title("What each ordering leaves in each variable")
    legend = [Patch(color=colour, label=outcome) for outcome, colour in OUTCOME_COLOURS.items()]
    ax.legend(
        handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="outcome"
    )
    save(figure, path)


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


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    figures = parser.add_subparsers(dest="figure", required=True, metavar="{probes,outcomes}")
    probes = figures.add_parser("probes", help="the probed values, from the slice CSVs")
    probes.add_argument("--slices", nargs="+", required=True, help="slice CSVs of every state")
    outcomes = figures.add_parser("outcomes", help="the outcome grid, from variables.csv")
    outcomes.add_argument("--variables", required=True, help="variables.csv")
    for figure in (probes, outcomes):
        figure.add_argument("--output", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"figures {args.figure}: %(message)s")
    if args.figure == "probes":
        try:
            panels = read_panels(args.slices)
        except ValueError as error:
            fail(str(error))
        draw_probes(panels, args.output)
        logging.info("read %s", " ".join(args.slices))
    else:
        draw_outcomes(read_rows(args.variables), args.output)
        logging.info("read %s", args.variables)
    logging.info("wrote %s", args.output)


if __name__ == "__main__":
    main()
