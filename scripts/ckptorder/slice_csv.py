"""The slice CSVs: one checkpoint's probed elements in each state, a row each. extract writes
them; the report and the probes figure read them with `read`, which refuses a file cut short
or stale.

Columns: state, tensor, slice (the probe as the config writes it), index (the element's full
coordinates, comma-joined), value (written so that it reads back as the same float32).
"""

import csv
import io

import numpy as np

from ckptorder import network, slices
from ckptorder.atomic import atomic_path, read_complete_text

COLUMNS = ("state", "tensor", "slice", "index", "value")


def row(state, probe, coordinates, value):
    """One element's row. repr of the exact float64 widening reads back as the same float32."""
    return (state, probe["tensor"], probe["slice"], _index(coordinates), repr(float(value)))


def _index(coordinates):
    return ",".join(map(str, coordinates))


def probe_elements(probes, shapes):
    """(tensor, slice, index) of every element the probes select, in the order extract writes
    them; `shapes` maps each variable name to its shape."""
    return [
        (probe["tensor"], probe["slice"], _index(coordinates))
        for probe in probes
        for coordinates in slices.coordinates(
            probe["slice"], shapes[network.variable_name(probe["tensor"], shapes)]
        )
    ]


def write(path, rows):
    with (
        atomic_path(path) as temporary,
        open(temporary, "w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def read(path, elements=None):
    """Every row of the file at `path` as (state, tensor, slice, index, float32 value). The
    file must be complete and hold, for each state, the same elements in the same order:
    `elements` (from `probe_elements`) where given, else its first state's (a checkpoint
    without probes: none). Raises ValueError naming the file."""
    rows = _rows(path)
    by_state = {}
    for state, tensor, slice_, index, _ in rows:
        by_state.setdefault(state, []).append((tensor, slice_, index))
    layouts = list(by_state.values())
    expected = elements if elements is not None else layouts[0] if layouts else []
    whose = "every probe's values" if elements is not None else "the same elements"
    if (expected and not layouts) or any(layout != expected for layout in layouts):
        raise ValueError(f"{path}: does not hold {whose} for each state (cut short or stale)")
    return rows


def _rows(path):
    reader = csv.reader(io.StringIO(read_complete_text(path)))
    if tuple(next(reader, ())) != COLUMNS:
        raise ValueError(f"{path}: not a slice CSV (its header is not {','.join(COLUMNS)})")
    rows = []
    for line, fields in enumerate(reader, start=2):
        try:
            state, tensor, slice_, index, value = fields
            rows.append((state, tensor, slice_, index, np.float32(float(value))))
        except ValueError:
            raise ValueError(f"{path}: line {line} is not a slice CSV row") from None
    return rows
