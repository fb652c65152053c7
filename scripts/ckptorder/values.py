"""Files of variable values: a zip of .npy arrays, one per variable, plus `sources.json`.

A state that holds a variable bit for bit equal to the checkpoint's saved or its graph's initial
value records the name of that state ("saved" or "initial") instead of a copy; a variable that
could not be read records `uninitialized`, and an ordering that raised records its error
instead of any value (it lists the variables, each `failed`). Files are written one variable
at a time with fixed zip timestamps, so the same values give the same bytes, and read one
tensor at a time with pickles disallowed.
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from ckptorder.atomic import atomic_path, write_text
from ckptorder.orderings import FAILED, UNINITIALIZED

SOURCES = "sources.json"
# Zip's earliest date: no wall-clock time enters the file.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Comparisons and differences go through arrays this many bytes at a time.
CHUNK = 1 << 24


# restore's folder of one checkpoint: a values file per state, and what it found of the graph.
GRAPH_FACTS = "graph.json"
# ... and, for the built model, the inference check (`inference.py`).
INFERENCE = "inference.json"
# ... and, for TF2's object-based checkpoint, what each status check gave per ordering.
ASSERTIONS_FILE = "assertions.json"


def state_paths(folder, states):
    """Each state's values file in restore's folder of a checkpoint."""
    return {state: Path(folder) / f"{state}.npz" for state in states}


def bitwise_equal(a, b):
    """Same dtype, shape and bytes: -0.0 differs from 0.0 and a NaN equals itself."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    a, b = _bytes(a), _bytes(b)
    return all(a[i : i + CHUNK] == b[i : i + CHUNK] for i in range(0, len(a), CHUNK))


def max_abs_diff(a, b):
    """The largest |a - b| in float64 (NaN if either holds a NaN), a chunk at a time; NaN
    where there is no difference to take: shapes that differ (a variable restored from a
    tensor of another shape), or values that are not numbers (strings)."""
    numeric = a.dtype.kind in "biufc" and b.dtype.kind in "biufc"
    if a.shape != b.shape or not numeric:
        return float("nan")
    a, b = np.ravel(a), np.ravel(b)
    step = CHUNK // 8
    return max(
        (
            float(np.max(np.abs(a[i : i + step].astype(np.float64) - b[i : i + step])))
            for i in range(0, a.size, step)
        ),
        default=0.0,
        key=lambda d: (np.isnan(d), d),
    )


def _bytes(array):
    return memoryview(np.ascontiguousarray(array)).cast("B")


def write_values(path, entries, failed=None):
    """Write `entries`, (name, value) pairs where a value is an array, the name of the state
    it equals ("saved" or "initial") or UNINITIALIZED, in their order; one array is held at a
    time. `failed`: the error that stopped the state's ordering (then every entry's value is
    FAILED: `write_failure`)."""
    order, sources = [], {}
    with (
        atomic_path(path) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
    ):
        for name, value in entries:
            order.append(name)
            if isinstance(value, str):
                sources[name] = value
                continue
            with archive.open(_member_info(f"{name}.npy"), "w", force_zip64=True) as member:
                # Not ascontiguousarray: it makes a scalar (global_step) an array of one.
                contiguous = np.asarray(value, order="C")
                np.lib.format.write_array(member, contiguous, allow_pickle=False)
        listing = json.dumps({"order": order, "references": sources, "failed": failed})
        archive.writestr(_member_info(SOURCES), listing)


def write_failure(path, names, error):
    """The values file of a state whose ordering raised `error`: it lists the variables
    `names` and holds no value."""
    write_values(path, [(name, FAILED) for name in names], failed=error)


def _member_info(name):
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.external_attr = 0o644 << 16
    return info


class Values:
    """The values of one state, read lazily; references resolve through `references`, a map
    from state name to the path of that state's values file."""

    def __init__(self, path, references=None):
        self.path = str(path)
        self.references = references or {}
        try:
            self._archive = zipfile.ZipFile(self.path)
            listing = json.loads(self._archive.read(SOURCES))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as error:
            raise ValueError(f"{self.path}: not a complete values file ({error})") from None
        self.names = listing["order"]
        self.sources = listing["references"]
        self.failed = listing["failed"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._archive.close()

    def source(self, name):
        """Which file holds `name`: this state's own, or the state it refers to; UNINITIALIZED
        where reading it raised."""
        return self.sources.get(name, "own")

    def readable(self, name):
        return not self.failed and name in self.names and self.source(name) != UNINITIALIZED

    def read(self, name):
        return self._with_member(
            name, lambda member: np.lib.format.read_array(member, allow_pickle=False)
        )

    def shape(self, name):
        return self._with_member(name, lambda member: _header(member)[0])

    def equals(self, name, array):
        """Whether `array` is bit for bit this state's `name`, read a chunk at a time."""
        return self._with_member(name, lambda member: _stream_equal(member, array))

    def _with_member(self, name, use):
        """`use` applied to the open .npy member that holds `name`, here or in the state
        this one refers to."""
        reference = self.sources.get(name)
        if reference == UNINITIALIZED:
            raise ValueError(f"{self.path}: {name} is uninitialized (it holds no value)")
        if reference is not None:
            if reference not in self.references:
                raise ValueError(f"{self.path}: {name} refers to {reference!r}, not given")
            with Values(self.references[reference]) as referred:
                return referred._with_member(name, use)
        try:
            member = self._archive.open(f"{name}.npy")
        except KeyError:
            raise ValueError(f"{self.path}: has no variable {name!r}") from None
        try:
            with member:
                return use(member)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
            raise ValueError(f"{self.path}: {name} is damaged ({error})") from None


def variable_shapes(initial, saved):
    """Each variable's shape: its initial value's, else (its initializers failed, or set
    nothing) its saved value's; a variable that neither holds has none."""
    shapes = {}
    for name in initial.names:
        held = next((state for state in (initial, saved) if state.readable(name)), None)
        if held is not None:
            shapes[name] = held.shape(name)
    return shapes


def _header(member):
    """(shape, fortran_order, dtype) of an .npy stream, leaving it at the data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    return np.lib.format.read_array_header_2_0(member)


def _stream_equal(member, array):
    shape, fortran, dtype = _header(member)
    if (shape, dtype) != (array.shape, array.dtype) or fortran:
        return False
    expected = _bytes(array)
    return all(
        member.read(CHUNK) == expected[start : start + CHUNK]
        for start in range(0, len(expected), CHUNK)
    )


def write_graph_facts(
    folder, unseeded, random, constant, unlisted=(), compatibility=(), init_op=(), lifted=False
):
    """What the report needs to know of the graph loaded (restore's `graph_facts`, of which a
    load has no checkpoint keys to match by name): its variables with unseeded, with random and
    with constant initializers, those no collection lists (none has an initializer), the
    compatibility rows (a checkpoint restored into a model's), the variables a SavedModel's
    init op initialises (None where it writes variables otherwise) and whether it has a
    resource variable (`lifted`). Returns them."""
    facts = {
        "init_op": None if init_op is None else list(init_op),
        "lifted": lifted,
        "unseeded": unseeded,
        "random": random,
        "constant": constant,
        "unlisted": list(unlisted),
        "aliases": {},
        "compatibility": list(compatibility),
        "suggested_map": {},
    }
    write_text(Path(folder) / GRAPH_FACTS, json.dumps(facts, sort_keys=True))
    return facts
