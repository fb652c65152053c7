"""Apply every probe to each state's values of one checkpoint (restore's folder) and write the
selected elements as a tidy CSV (the format: `ckptorder/slice_csv.py`). An ordering that failed,
or a variable left uninitialized, has no values: its elements are written as nan. numpy only:
reads just the tensors the probes name.
"""

import logging

import numpy as np

from ckptorder import network, slice_csv, slices
from ckptorder.cli import load_settings, one_line_errors, step_arguments
from ckptorder.orderings import REFERENCES
from ckptorder.step_settings import ExtractSettings
from ckptorder.values import Values, state_paths, variable_shapes


def probe_rows(state, values, probe, variable):
    """One slice CSV row per element that `probe` (keys `tensor` and `slice`) selects of
    `variable` (its name and shape in the graph). Raises ValueError for a slice that does not
    fit it."""
    name, shape = variable
    coordinates = slices.coordinates(probe["slice"], shape)
    selected = np.full(len(coordinates), np.nan, dtype=np.float32)
    if values.readable(name):
        tensor = values.read(name)
        if tensor.shape != tuple(shape):
            logging.info(
                "%s holds shape %s in %s, not its graph's %s: its probe's elements outside that"
                " shape are nan",
                name,
                tensor.shape,
                state,
                tuple(shape),
            )
        inside = [
            tensor.ndim == len(c) and all(i < n for i, n in zip(c, tensor.shape, strict=True))
            for c in coordinates
        ]
        if any(inside):
            held = [c for c, fits in zip(coordinates, inside, strict=True) if fits]
            where = tuple(np.array(axis) for axis in zip(*held, strict=True))
            selected[np.flatnonzero(inside)] = tensor[where]
    for index, value in zip(coordinates, selected, strict=True):
        yield slice_csv.row(state, probe, index, value)


def probed_variables(initial, saved, probes, checkpoint):
    """Each probe's tensor name to its variable's name and shape (`variable_shapes`). Raises
    ValueError, naming the checkpoint, for a probe of a variable its graph lacks (listing its
    variables) or that holds no value to probe."""
    shapes = variable_shapes(initial, saved)
    probed = {}
    for probe in probes:
        try:
            name = network.variable_name(probe["tensor"], initial.names)
        except ValueError as error:
            raise ValueError(f"probes of checkpoint {checkpoint}: {error}") from None
        if name not in shapes:
            raise ValueError(
                f"probes of checkpoint {checkpoint}: {name} holds no value to probe, neither"
                " initial nor saved"
            )
        probed[probe["tensor"]] = name, shapes[name]
    return probed


def main(argv=None):
    options = [("--values", "restore's folder of values files"), ("--output", "CSV file to write")]
    args = step_arguments("extract", __doc__, argv, options, ExtractSettings)
    with one_line_errors():
        settings = load_settings(args.settings, ExtractSettings)
        paths = state_paths(args.values, settings["states"])
        references = {state: paths[state] for state in REFERENCES}
        with Values(paths["initial"]) as initial, Values(paths["saved"]) as saved:
            variables = probed_variables(initial, saved, settings["probes"], settings["checkpoint"])
        rows = []
        for state, path in paths.items():
            with Values(path, references) as values:
                for probe in settings["probes"]:
                    rows.extend(probe_rows(state, values, probe, variables[probe["tensor"]]))
    slice_csv.write(args.output, rows)
    logging.info("read %s; wrote %d values to %s", args.values, len(rows), args.output)


if __name__ == "__main__":
    main()
