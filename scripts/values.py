"""Files of variable values: a zip of .npy arrays, one per variable, plus `sources.json`.

A state that holds a variable bit for bit equal to build's saved or initial value records the
name of that state ("saved" or "initial") instead of a copy. Files are written with fixed zip
timestamps, so the same values give the same bytes, and read one tensor at a time with pickles
disallowed.
"""

import io
import json
import zipfile

import numpy as np

from atomic import atomic_path

SOURCES = "sources.json"
# Zip's earliest date: no wall-clock time enters the file.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def bitwise_equal(a, b):
    """Same dtype, shape and bytes: -0.0 differs from 0.0 and a NaN equals itself."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def write_values(path, arrays, sources=None):
    """Write `arrays` (name to array) and `sources` (name to "saved"/"initial") to `path`."""
    with (
        atomic_path(path) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive,
    ):
        _add(archive, SOURCES, json.dumps(sources or {}, sort_keys=True).encode())
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(
                buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            _add(archive, f"{name}.npy", buffer.getbuffer())


def _add(archive, member, data):
    info = zipfile.ZipInfo(member, date_time=_FIXED_TIME)
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


class Values:
    """The values of one state, read lazily; references resolve through `references`, a map
    from state name to the path of that state's values file."""

    def __init__(self, path, references=None):
        self.path = str(path)
        self.references = references or {}
        try:
            self._archive = zipfile.ZipFile(self.path)
            self.sources = json.loads(self._archive.read(SOURCES))
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as error:
            raise ValueError(f"{self.path}: not a complete values file ({error})") from None
        own = [n.removesuffix(".npy") for n in self._archive.namelist() if n != SOURCES]
        self.names = sorted(own + list(self.sources))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._archive.close()

    def source(self, name):
        """Which file holds `name`: this state's own, or the state it refers to."""
        return self.sources.get(name, "own")

    def read(self, name):
        reference = self.sources.get(name)
        if reference is not None:
            if reference not in self.references:
                raise ValueError(f"{self.path}: {name} refers to {reference!r}, not given")
            with Values(self.references[reference]) as referred:
                return referred.read(name)
        try:
            with self._archive.open(f"{name}.npy") as member:
                return np.lib.format.read_array(member, allow_pickle=False)
        except KeyError:
            raise ValueError(f"{self.path}: has no variable {name!r}") from None
        except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
            raise ValueError(f"{self.path}: {name} is damaged ({error})") from None
