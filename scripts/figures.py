"""Draw one of the three figures of a checkpoint (matplotlib, Agg), named by the first argument.

`probes`: each probe's slice as a heatmap for saved, initial and every ordering, one colour
scale per probe, each panel titled with its state and outcome. It is drawn from the
checkpoint's slice CSV, with the report's bitwise comparison, so that it runs beside the
report rather than after it; a state without values is drawn empty, named by what its values
file says: `failed` (the ordering raised), `uninitialized`, or `changed` (a value of another
shape). `outcomes`: the outcome of every variable (columns)
under every ordering (rows), from `variables.csv`; above a dozen variables, how many each
ordering leaves in each outcome. `trajectory`: a training run's probed
values against the step of each of its checkpoints, from `trajectory.csv`.
"""

import argparse
import csv
import logging

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ckptorder import network, orderings, slice_csv
from ckptorder.cli import one_line_errors, start_logging
from ckptorder.figure_layout import (
    CENTRED,
    COUNTS_WIDTH,
    LABEL_WIDTH,
    MIN_CELL_HEIGHT,
    MIN_CELL_WIDTH,
    MOST_CELLS,
    PANEL_GAP,
    PANEL_WIDTH,
    PROBE_GAP,
    PROBE_WIDTH,
    ROW_HEIGHT,
    SLANT,
    column_axes,
    label_width,
    new_figure,
    outcomes_size,
    probes_size,
    round_down,
    row_tops,
    save,
    slanted_labels,
    write_at,
)
from ckptorder.orderings import REFERENCES, observed_outcome
from ckptorder.values import Values, bitwise_equal, state_paths

OUTCOME_COLOURS = {
    orderings.RESTORED: "#1b9e77",
    orderings.REINITIALIZED: "#d95f02",
    orderings.CHANGED: "#7570b3",
    orderings.UNINITIALIZED: "#e7298a",
    orderings.FAILED: "#666666",
}
CMAP = colormaps["RdBu_r"]
PROBES_TITLE = "What each ordering leaves in the probed weights"
PROBES_SUBTITLE = (
    '"value - saved" is blank where restored bit for bit, and shows the initial values\''
    " pattern where the initializers ran last"
)


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_panels(path):
    """Every (state, tensor, slice) of a slice CSV as a 2-D float32 panel. The report checks
    this file beside this step, not before it, so it is read with the same checks. Raises
    ValueError for a bad file or one without the references."""
    elements = {}
    for state, tensor, slice_, index, value in slice_csv.read(path):
        elements.setdefault((state, tensor, slice_), []).append((index, value))
    states = {state for state, _, _ in elements}
    if not states.issuperset(REFERENCES):
        raise ValueError(f"{path}: holds no saved or no initial values")
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


def probe_outcome(state, values, no_value):
    """What a state's panel shows of a probe: `reference` for saved and initial, else the
    ordering's outcome, from the bitwise comparison the report makes; `no_value`: the outcome
    of a state without values (`no_value_outcome`)."""
    if state in REFERENCES:
        return "reference"
    if np.isnan(values[state]).all():
        return no_value(state)
    return observed_outcome(*(bitwise_equal(values[state], values[r]) for r in REFERENCES))


def no_value_outcome(folder, tensor):
    """The outcome of a state that holds none of `tensor`'s probed elements, as its values file
    in restore's `folder` records it: `failed`, `uninitialized`, else `changed` (the variable
    holds a value of another shape)."""

    def outcome(state):
        with Values(state_paths(folder, [state])[state]) as held:
            if held.failed:
                return orderings.FAILED
            name = network.variable_name(tensor, held.names)
            return (
                orderings.UNINITIALIZED
                if held.source(name) == orderings.UNINITIALIZED
                else orderings.CHANGED
            )

    return outcome


def draw_probes(panels, checkpoint, folder, path):
    """One row per state (saved, initial, then each ordering) and, per probe, two columns:
    the values and the values minus the saved ones, which are blank ("= saved") where restored
    and show the initial values' pattern where re-initialised. Each ordering's panels are
    framed in its outcome's colour and followed by the outcome's name; `folder`: restore's
    folder of the checkpoint, read for the states without values."""
    probes = list(dict.fromkeys((tensor, slice_) for _, tensor, slice_ in panels))
    states = [*REFERENCES, *dict.fromkeys(s for s, _, _ in panels if s not in REFERENCES)]
    tops = row_tops(states)
    labels = label_width(states)
    size = probes_size(states, len(probes))
    figure = new_figure(size, left=0, right=0, top=0, bottom=0)
    write_at(figure, size, (size[0] / 2, 0.25), f"{PROBES_TITLE}: {checkpoint}", fontsize=14)
    write_at(figure, size, (size[0] / 2, 0.55), PROBES_SUBTITLE, fontsize=10)
    for number, (tensor, slice_) in enumerate(probes):
        left = labels + number * (PROBE_WIDTH + PROBE_GAP)
        centre = left + PANEL_WIDTH + PANEL_GAP / 2
        write_at(figure, size, (centre, 0.95), f"{tensor} {slice_}", fontsize=11, weight="bold")
        values = {state: panels[state, tensor, slice_] for state in states}
        no_value = no_value_outcome(folder, tensor)
        outcomes = {state: probe_outcome(state, values, no_value) for state in states}
        restored = {
            state: state == "saved" or outcomes[state] == orderings.RESTORED for state in states
        }
        columns = {
            "value": (values, {}),
            "value - saved": ({s: values[s] - values["saved"] for s in states}, restored),
        }
        for column, (label, (shown, blank)) in enumerate(columns.items()):
            ax = column_axes(figure, size, left + column * (PANEL_WIDTH + PANEL_GAP), tops)
            ax.set_title(label, fontsize=10)
            image = draw_column(ax, shown, tops, outcomes, blank)
            colorbar = figure.colorbar(
                image, ax=ax, orientation="horizontal", fraction=0.04, pad=0.03, shrink=0.8
            )
            tick = round_down(image.norm.vmax)
            colorbar.set_ticks([-tick, 0, tick], labels=[f"{-tick:g}", "0", f"{tick:g}"])
            colorbar.ax.tick_params(labelsize=8)
        if number == 0:
            figure.axes[0].set_yticks([t + ROW_HEIGHT / 2 for t in tops], states, fontsize=10)
        write_outcomes(ax, outcomes, tops)
    save(figure, path)


def draw_column(ax, panels, tops, outcomes, blank):
    """The states' panels stacked in one axes (in inches from the top: an axes per panel
    costs most of this step's time), on one symmetric colour scale. Panels in `blank` whose
    value is true are drawn empty, "= saved" in their middle; panels without a value (all nan)
    too, their outcome in their middle."""
    finite = np.concatenate([p[np.isfinite(p)] for p in panels.values()])
    limit = float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0
    norm = Normalize(-limit, limit)
    image = None
    for top, (state, panel) in zip(tops, panels.items(), strict=True):
        extent = (0, PANEL_WIDTH, top + ROW_HEIGHT, top)
        if blank.get(state) or np.isnan(panel).all():
            words = "= saved" if blank.get(state) else outcomes[state]
            ax.text(PANEL_WIDTH / 2, top + ROW_HEIGHT / 2, words, **CENTRED, color="0.45")
        else:
            image = ax.imshow(panel, cmap=CMAP, norm=norm, extent=extent, interpolation="nearest")
            write_values(ax, panel, extent, norm)
        outcome = outcomes[state]
        frame = OUTCOME_COLOURS.get(outcome, "black")
        ax.add_patch(
            Rectangle(
                (0, top),
                PANEL_WIDTH,
                ROW_HEIGHT,
                fill=False,
                edgecolor=frame,
                linewidth=0.8 if outcome == "reference" else 2.5,
            )
        )
    ax.set_xlim(-0.05, PANEL_WIDTH + 0.05)
    ax.set_ylim(tops[-1] + ROW_HEIGHT + 0.05, -0.05)
    ax.set_aspect("auto")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.set_frame_on(False)
    return image if image is not None else ScalarMappable(norm, CMAP)


def write_values(ax, panel, extent, norm):
    """Each value in its cell where the cells are large enough to read it, in white on dark
    cells and black on light ones."""
    rows, columns = panel.shape
    left, right, bottom, top = extent
    cell_width, cell_height = (right - left) / columns, (bottom - top) / rows
    if cell_width < MIN_CELL_WIDTH or cell_height < MIN_CELL_HEIGHT:
        return
    for (i, j), value in np.ndenumerate(panel):
        red, green, blue, _ = CMAP(norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(
            left + (j + 0.5) * cell_width,
            top + (i + 0.5) * cell_height,
            "0" if value == 0 else f"{value:.3f}" if abs(value) >= 1e-3 else f"{value:.0e}",
            **CENTRED,
            fontsize=8,
            color="white" if dark else "black",
        )


def write_outcomes(ax, outcomes, tops):
    """Each state's outcome in words, right of its last panel."""
    for top, outcome in zip(tops, outcomes.values(), strict=True):
        ax.text(
            PANEL_WIDTH + 0.12,
            top + ROW_HEIGHT / 2,
            outcome,
            ha="left",
            va="center",
            fontsize=10,
            fontweight="normal" if outcome == "reference" else "bold",
            color=OUTCOME_COLOURS.get(outcome, "0.45"),
            clip_on=False,
        )


def draw_outcomes(variables, checkpoint, format_, path):
    """The outcome of every variable (columns) under every ordering (rows, with their export
    variant) of one checkpoint in one format, each cell coloured and named: only outcomes that
    occur appear. Raises ValueError for a checkpoint or format `variables` lacks."""
    variables = [
        {**row, "ordering": ": ".join(filter(None, (row["variant"], row["ordering"])))}
        for row in variables
        if row["checkpoint"] == checkpoint and row["format"] == format_
    ]
    if not variables:
        raise ValueError(f"no rows of checkpoint {checkpoint!r} in {format_} in the variables CSV")
    if format_ != "ckpt":
        checkpoint = f"{checkpoint} as {format_}"
    orderings, names = unique(variables, "ordering"), unique(variables, "variable")
    if len(names) > MOST_CELLS:
        draw_outcome_counts(variables, orderings, len(names), checkpoint, path)
        return
    labels = label_width(orderings)
    width, height = outcomes_size(orderings, names)
    slanted, beyond = slanted_labels(names)
    right = max(0.3, beyond)
    figure = new_figure(
        (width - 0.3 + right, height + slanted),
        left=labels,
        right=right,
        top=0.9 + slanted,
        bottom=0.2,
    )
    ax = figure.subplots()
    for row in variables:
        x, y = names.index(row["variable"]), orderings.index(row["ordering"])
        colour = OUTCOME_COLOURS[row["outcome"]]
        ax.add_patch(
            Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=colour, edgecolor="white", linewidth=2)
        )
        ax.text(x, y, row["outcome"], **CENTRED, fontsize=10, color="white")
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylim(len(orderings) - 0.5, -0.5)
    ax.xaxis.tick_top()
    ax.set_xticks(range(len(names)), names, fontsize=10)
    if slanted:
        ax.tick_params(axis="x", labelrotation=SLANT)
        for label in ax.get_xticklabels():
            label.set(horizontalalignment="left", rotation_mode="anchor")
    ax.set_yticks(range(len(orderings)), orderings, fontsize=10)
    ax.tick_params(length=0)
    ax.set_frame_on(False)
    ax.set_title(f"What each ordering leaves in each variable: {checkpoint}", fontsize=14, pad=28)
    save(figure, path)


def draw_outcome_counts(variables, ordering_names, count, checkpoint, path):
    """How many of the checkpoint's `count` variables each ordering (a row) leaves in each
    outcome: a bar of that many variables, split and coloured by outcome, each part named
    with its count where it has room. The same width at 10 variables as at 5,000."""
    labels = label_width(ordering_names)
    figure = new_figure(
        outcomes_size(ordering_names, range(COUNTS_WIDTH)),
        left=labels,
        right=0.3,
        top=0.9,
        bottom=0.2,
    )
    ax = figure.subplots()
    for y, ordering in enumerate(ordering_names):
        left = 0
        for outcome in orderings.OUTCOMES:
            n = sum(r["ordering"] == ordering and r["outcome"] == outcome for r in variables)
            if not n:
                continue
            ax.barh(y, n, left=left, height=0.8, color=OUTCOME_COLOURS[outcome], edgecolor="white")
            if n / count > 0.12:
                ax.text(left + n / 2, y, f"{outcome} {n}", **CENTRED, fontsize=9, color="white")
            left += n
    ax.set_xlim(0, count)
    ax.set_ylim(len(ordering_names) - 0.5, -0.5)
    ax.set_yticks(range(len(ordering_names)), ordering_names, fontsize=10)
    ax.tick_params(length=0, labelsize=9)
    ax.set_frame_on(False)
    title = f"What each ordering leaves in the {count} variables: {checkpoint}"
    ax.set_title(title, fontsize=14, pad=12)
    save(figure, path)


def draw_trajectory(trajectory, run, path):
    """One panel per probe of a training run: each probed element's saved value (a line)
    against the step of the checkpoint it was saved in. Raises ValueError for a run
    `trajectory` lacks."""
    rows = [{**row, "probe": f"{row['tensor']} {row['slice']}"} for row in trajectory]
    rows = [row for row in rows if row["run"] == run]
    if not rows:
        raise ValueError(f"no rows of the training run {run!r} in the trajectory CSV")
    probes = unique(rows, "probe")
    size = (LABEL_WIDTH + len(probes) * 4.0, 4.2)
    figure = new_figure(size, left=0.9, right=0.3, top=0.9, bottom=0.6)
    axes = figure.subplots(1, len(probes), squeeze=False)[0]
    for ax, probe in zip(axes, probes, strict=True):
        lines = {}
        for row in rows:
            if row["probe"] == probe:
                lines.setdefault(row["index"], []).append((int(row["step"]), float(row["value"])))
        for points in lines.values():
            steps, values = zip(*sorted(points), strict=True)
            ax.plot(steps, values, marker="o", markersize=3, linewidth=0.8, color=CMAP(0.85))
        ax.set_title(probe, fontsize=10)
        ax.set_xlabel("step", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("saved value", fontsize=9)
    figure.suptitle(f"How the probed weights moved during training: {run}", fontsize=13)
    save(figure, path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    figures = parser.add_subparsers(
        dest="figure", required=True, metavar="{probes,outcomes,trajectory}"
    )
    probes = figures.add_parser("probes", help="the probed values, from the slice CSVs")
    probes.add_argument("--slices", required=True, help="the checkpoint's slice CSV")
    probes.add_argument(
        "--values", required=True, help="restore's folder of the checkpoint's values files"
    )
    outcomes = figures.add_parser("outcomes", help="the outcome grid, from variables.csv")
    outcomes.add_argument("--variables", required=True, help="variables.csv")
    outcomes.add_argument("--format", default="ckpt", help="the format (default: ckpt)")
    for figure in (probes, outcomes):
        figure.add_argument("--name", required=True, help="the checkpoint's name")
    trajectory = figures.add_parser("trajectory", help="a training run's probed values by step")
    trajectory.add_argument("--trajectory", required=True, help="trajectory.csv")
    trajectory.add_argument("--run", required=True, help="the training run's entry name")
    for figure in (probes, outcomes, trajectory):
        figure.add_argument("--output", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    start_logging(f"figures {args.figure}")
    with one_line_errors():
        if args.figure == "probes":
            draw_probes(read_panels(args.slices), args.name, args.values, args.output)
            logging.info("read %s", args.slices)
        elif args.figure == "outcomes":
            draw_outcomes(read_rows(args.variables), args.name, args.format, args.output)
            logging.info("read %s", args.variables)
        else:
            draw_trajectory(read_rows(args.trajectory), args.run, args.output)
            logging.info("read %s", args.trajectory)
    logging.info("wrote %s", args.output)


if __name__ == "__main__":
    main()
