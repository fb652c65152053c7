"""Apply every probe to one state's values and write the selected elements as a tidy CSV.

Columns: state, tensor, slice, index (the element's full coordinates, comma-joined), value
(written so that reading it back gives the same float32, bit for bit). numpy only: reads just
the tensors the probes name.
"""

import argparse
import csv
import logging

import numpy as np

import network
import slices
from atomic import atomic_path
from cli import add_settings_argument, fail, load_settings
from values import Values

COLUMNS = ("state", "tensor", "slice", "index", "value")
DEFAULTS = {"probes": network.SEED_PROBES}


def probe_rows(state, values, probe):
    """One row per element that `probe` (keys `tensor` and `slice`) selects."""
    tensor = values.read(network.variable_name(probe["tensor"], values.names))
    coordinates = slices.coordinates(probe["slice"], tensor.shape)
    selected = tensor[tuple(np.array(axis) for axis in zip(*coordinates, strict=True))]
    for index, value in zip(coordinates, selected, strict=True):
        # repr of the exact float64 widening reads back as the same float32 bits.
        yield (
            state,
            probe["tensor"],
            probe["slice"],
            ",".join(map(str, index)),
            repr(float(value)),
        )


def write_rows(path, rows):
    with (
        atomic_path(path) as temporary,
        open(temporary, "w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--state", required=True, help="name of the state (saved, initial, an ordering)"
    )
    parser.add_argument("--values", required=True, help="the state's values file")
    parser.add_argument("--saved", required=True, help="build's saved values (for references)")
    parser.add_argument("--initial", required=True, help="build's initial values (for references)")
    add_settings_argument(parser, DEFAULTS)
    parser.add_argument("--output", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="extract: %(message)s")
    probes = load_settings(args.settings, DEFAULTS)["probes"]
    references = {"saved": args.saved, "initial": args.initial}
    try:
        with Values(args.values, references) as values:
            rows = [row for probe in probes for row in probe_rows(args.state, values, probe)]
    except ValueError as error:
        fail(str(error))
    write_rows(args.output, rows)
    logging.info("read %s; wrote %d values to %s", args.values, len(rows), args.output)


if __name__ == "__main__":
    main()
