"""Which of a graph's variables a checkpoint can restore, by name, shape and dtype, and, for a
variable the checkpoint lacks, the key it most likely holds it under. Pure Python: restore
works it out from TensorFlow's maps, the report writes it to `compatibility.csv`.

A variable and a key are specs: name to (shape, dtype name).
"""

import re

COLUMNS = (
    "variable",
    "key",
    "graph_shape",
    "checkpoint_shape",
    "graph_dtype",
    "checkpoint_dtype",
    "status",
    "suggested_key",
    "object_paths",
)
# The status of a TF2 checkpoint's key where no model was given to match it against.
NEEDS_MODEL = "needs_model"


def rows(variables, keys, matched=None, paths=None):
    """One row per graph variable (match, missing_in_checkpoint, shape_mismatch,
    dtype_mismatch), then one per key no variable is matched to (unused_key). A variable is
    matched to the key of its own name, or where `matched` is given (a TF2 checkpoint's walk of
    its object graph) to the key it gives; `paths`: each key's object paths (a TF2 key's)."""
    if matched is None:
        matched = {name: name for name in variables if name in keys}
    paths = paths or {}
    used = set(matched.values())
    unused = {key: spec for key, spec in keys.items() if key not in used}
    found = []
    for name, (shape, dtype) in variables.items():
        key = matched.get(name)
        held = keys.get(key)
        status = (
            "missing_in_checkpoint"
            if held is None
            else "shape_mismatch"
            if held[0] != shape
            else "dtype_mismatch"
            if held[1] != dtype
            else "match"
        )
        suggestion = suggested_key(name, (shape, dtype), unused) if held is None else None
        found.append(
            row(name, key if held else "", (shape, dtype), held, status, suggestion, paths.get(key))
        )
    for key, spec in unused.items():
        found.append(row("", key, None, spec, "unused_key", None, paths.get(key)))
    return found


def row(variable, key, spec, held, status, suggestion, object_paths=None):
    """A row of COLUMNS; `object_paths`: a TF2 key's paths, joined by spaces."""
    shape, dtype = spec or (None, "")
    held_shape, held_dtype = held or (None, "")
    return {
        "variable": variable,
        "key": key,
        "graph_shape": shaped(shape),
        "checkpoint_shape": shaped(held_shape),
        "graph_dtype": dtype,
        "checkpoint_dtype": held_dtype,
        "status": status,
        "suggested_key": suggestion or "",
        "object_paths": " ".join(object_paths or ()),
    }


def shaped(shape):
    """`[6, 4]`, `[]` for a scalar; blank where there is no shape."""
    return "" if shape is None else f"[{', '.join(map(str, shape))}]"


def suggested_key(name, spec, unused):
    """The one unused key of the same shape and dtype whose name is `name` after a change of
    its leading scopes (`dense_1/kernel` for `head/kernel`, `model/dense/kernel` for
    `dense/kernel`) or of `_N` suffixes (`dense_1/kernel` for `dense/kernel`); None where
    there is none, or more than one."""
    candidates = [key for key, held in unused.items() if held == spec and same_but_scope(name, key)]
    return candidates[0] if len(candidates) == 1 else None


def same_but_scope(name, key):
    """Whether `name` and `key` differ in `_N` suffixes only, in their first scope only (same
    depth), or by leading scopes one has and the other lacks."""
    ours, theirs = name.split("/"), key.split("/")
    if list(map(numberless, ours)) == list(map(numberless, theirs)):
        return True
    if len(ours) == len(theirs):
        return len(ours) > 1 and ours[1:] == theirs[1:]
    shorter, longer = sorted((ours, theirs), key=len)
    return longer[-len(shorter) :] == shorter


def numberless(part):
    return re.sub(r"_\d+$", "", part)


def suggested_map(found):
    """Key to variable for every match and every suggestion: what init_from_checkpoint takes."""
    mapped = {r["key"]: r["variable"] for r in found if r["status"] == "match"}
    mapped |= {r["suggested_key"]: r["variable"] for r in found if r["suggested_key"]}
    return mapped
