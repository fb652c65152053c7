"""Draw the report as two figures (matplotlib, Agg).

`probes.png`: each probe's slice as a heatmap for saved, initial and every ordering, one
colour scale per probe, each panel titled with its state and outcome. `outcomes.png`: the
outcome of every variable (columns) under every ordering (rows), from `variables.csv`.
"""

import argparse
import logging

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from atomic import atomic_path

OUTCOME_COLOURS = {"restored": "#1b9e77", "reinitialized": "#d95f02", "changed": "#7570b3"}
# Panels with at most this many values print them in their cells.
ANNOTATE_UP_TO = 25


def panel_values(frame, state, tensor, slice_):
    """One state's slice of a probe as a 2-D array: a row for 1-D slices, the trailing axes
    folded for more. The shape is read off the elements' coordinates (axes along which they
    vary), in the C order extract writes them."""
    rows = frame[
        (frame["state"] == state) & (frame["tensor"] == tensor) & (frame["slice"] == slice_)
    ]
    coordinates = np.array([index.split(",") for index in rows["index"]], dtype=np.int64)
    shape = [n for n in (len(np.unique(axis)) for axis in coordinates.T) if n > 1]
    values = rows["value"].to_numpy()
    return values.reshape(1, -1) if len(shape) < 2 else values.reshape(shape[0], -1)


def read_slices(paths):
    """The slice CSVs (checked by the report already), values as float32."""
    frame = pd.concat(
        pd.read_csv(path, dtype={"index": str, "value": np.float64}) for path in paths
    )
    return frame.assign(value=frame["value"].astype(np.float32))


def draw_probes(frame, report, path):
    """Per probe, two rows of heatmaps: the values, and the values minus the saved ones (a
    restored panel is blank there, a re-initialised one shows what initialisation put back)."""
    probes = list(report[["tensor", "slice"]].drop_duplicates().itertuples(index=False))
    states = ["saved", "initial", *report["ordering"].unique()]
    size = (2.1 * len(states) + 1.5, 4.4 * len(probes) + 0.6)
    figure = new_figure(size, left=0.9, right=1.0, top=0.85, bottom=0.15)
    axes = figure.subplots(
        2 * len(probes), len(states), squeeze=False, gridspec_kw={"wspace": 0.08, "hspace": 0.3}
    )
    for number, (tensor, slice_) in enumerate(probes):
        values = {state: panel_values(frame, state, tensor, slice_) for state in states}
        differences = {state: values[state] - values["saved"] for state in states}
        outcomes = report[(report["tensor"] == tensor) & (report["slice"] == slice_)]
        outcomes = dict(zip(outcomes["ordering"], outcomes["outcome"], strict=True))
        titles = {state: f"{state}\n{outcomes.get(state, 'reference')}" for state in states}
        value_row, difference_row = axes[2 * number], axes[2 * number + 1]
        draw_row(figure, value_row, values, titles, "value", "{:.3f}")
        draw_row(figure, difference_row, differences, None, "value - saved", "{:+.1e}")
        value_row[0].set_ylabel(f"{tensor}\n{slice_}\nvalue", fontsize=8)
        difference_row[0].set_ylabel(f"{tensor}\n{slice_}\nvalue - saved", fontsize=8)
    figure.suptitle(
        "Probed values after each ordering: the same as saved (restored) or as initial "
        "(reinitialized)",
        fontsize=11,
    )
    save(figure, path)


def draw_row(figure, row, panels, titles, label, cell_format):
    """One heatmap per state on one symmetric colour scale, values printed in small panels."""
    finite = np.concatenate([p[np.isfinite(p)] for p in panels.values()])
    limit = float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0
    for ax, (state, panel) in zip(row, panels.items(), strict=True):
        image = ax.imshow(panel, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        if titles:
            ax.set_title(titles[state].replace("_", " "), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        if panel.size <= ANNOTATE_UP_TO:
            for (i, j), value in np.ndenumerate(panel):
                text = "0" if value == 0 else cell_format.format(value)
                ax.text(j, i, text, ha="center", va="center", fontsize=6)
    figure.colorbar(image, ax=row.tolist(), shrink=0.8, fraction=0.03, pad=0.01, label=label)


def draw_outcomes(variables, path):
    orderings = list(variables["ordering"].unique())
    names = list(variables["variable"].unique())
    codes = {outcome: n for n, outcome in enumerate(OUTCOME_COLOURS)}
    grid = variables.pivot(index="ordering", columns="variable", values="outcome")
    grid = grid.reindex(index=orderings, columns=names)
    size = (1.3 * len(names) + 3.5, 0.5 * len(orderings) + 2.2)
    figure = new_figure(size, left=2.3, right=1.5, top=0.5, bottom=1.2)
    ax = figure.subplots()
    ax.imshow(
        grid.replace(codes).to_numpy(int),
        cmap=ListedColormap(list(OUTCOME_COLOURS.values())),
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", required=True, help="report.csv")
    parser.add_argument("--variables", required=True, help="variables.csv")
    parser.add_argument("--slices", nargs="+", required=True, help="slice CSVs of every state")
    parser.add_argument("--probes-figure", required=True, help="PNG of the probed values")
    parser.add_argument("--outcomes-figure", required=True, help="PNG of the outcome grid")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="figures: %(message)s")
    report, variables = pd.read_csv(args.report), pd.read_csv(args.variables)
    draw_probes(read_slices(args.slices), report, args.probes_figure)
    draw_outcomes(variables, args.outcomes_figure)
    logging.info("read %s, %s and %s", args.report, args.variables, " ".join(args.slices))
    logging.info("wrote %s and %s", args.probes_figure, args.outcomes_figure)


if __name__ == "__main__":
    main()
