"""Write outputs under a temporary name and rename them into place, so that a killed job never
leaves a file that looks complete; read text files whole, refusing one cut short."""

import contextlib
import os
import shutil
from pathlib import Path

# The temporaries being written: what a step stopped from outside deletes (`discard_unfinished`).
UNFINISHED = set()


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it to `path`, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    UNFINISHED.add(temporary)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        UNFINISHED.discard(temporary)


def unfinished_folder(path, kind="tmp"):
    """A new empty folder beside `path`, `.NAME.KIND-PID`, among the UNFINISHED."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.with_name(f".{path.name}.{kind}-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    UNFINISHED.add(folder)
    return folder


@contextlib.contextmanager
def atomic_directory(path):
    """Yield an empty temporary folder beside `path`; on success it replaces `path`, else it
    is deleted."""
    path = Path(path)
    temporary = unfinished_folder(path)
    try:
        yield temporary
        shutil.rmtree(path, ignore_errors=True)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        UNFINISHED.discard(temporary)


def discard_unfinished():
    """Delete every temporary still being written."""
    for temporary in list(UNFINISHED):
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)


def write_text(path, text):
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_if_changed(path, text):
    """`write_text`, unless `path` holds `text` already (its time then stays). Returns `path`."""
    try:
        same = Path(path).read_text(encoding="utf-8") == text
    except OSError:
        same = False
    if not same:
        write_text(path, text)
    return path


def read_complete_text(path):
    """The text of `path`, refused when its last line is incomplete: the file was cut short."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.endswith("\n"):
        raise ValueError(f"{path}: cut short (it does not end with a complete line)")
    return text
