"""Apply every probe to one state's values and write the selected elements as a tidy CSV
(the format: `ckptorder/slice_csv.py`). numpy only: reads just the tensors the probes name.
"""

import argparse
import logging

import numpy as np

from ckptorder import network, slice_csv, slices
from ckptorder.cli import add_settings_argument, fail, load_settings
from ckptorder.values import Values

SETTINGS = {"probes": "list of {tensor, slice}: a variable name and a numpy basic-indexing slice"}


def probe_rows(state, values, probe):
    """One slice CSV row per element that `probe` (keys `tensor` and `slice`) selects.
    Raises ValueError for a tensor the values lack or a slice that does not fit it."""
    tensor = values.read(network.variable_name(probe["tensor"], values.names))
    coordinates = slices.coordinates(probe["slice"], tensor.shape)
    selected = tensor[tuple(np.array(axis) for axis in zip(*coordinates, strict=True))]
    for index, value in zip(coordinates, selected, strict=True):
        yield slice_csv.row(state, probe, index, value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--state", required=True, help="name of the state (saved, initial, an ordering)"
    )
    parser.add_argument("--values", required=True, help="the state's values file")
    parser.add_argument("--saved", required=True, help="build's saved values (for references)")
    parser.add_argument("--initial", required=True, help="build's initial values (for references)")
    add_settings_argument(parser, SETTINGS)
    parser.add_argument("--output", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="extract: %(message)s")
    references = {"saved": args.saved, "initial": args.initial}
    try:
        probes = load_settings(args.settings, SETTINGS)["probes"]
        with Values(args.values, references) as values:
            rows = [row for probe in probes for row in probe_rows(args.state, values, probe)]
    except ValueError as error:
        fail(str(error))
    slice_csv.write(args.output, rows)
    logging.info("read %s; wrote %d values to %s", args.values, len(rows), args.output)


if __name__ == "__main__":
    main()
