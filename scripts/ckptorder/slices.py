"""Parse numpy-style basic-indexing strings such as "[1, :, :, 1]" without eval.

Items are integers (negative too), `start:stop:step` slices with any part left out, and at
most one `...`. Pure Python, so the Snakefile can check probes when it loads.
"""

import itertools
import re

_INT = r"[+-]?\d+"
_SLICE = re.compile(rf"^({_INT})?:({_INT})?(?::({_INT})?)?$")


def parse(text):
    """The index items of a slice string: ints, slices and Ellipsis, as a tuple."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ValueError(f"slice {text!r} must be written in brackets, e.g. '[1, :, :, 1]'")
    items = [item.strip() for item in body[1:-1].split(",")]
    if items == [""]:
        raise ValueError(f"slice {text!r} is empty")
    key = tuple(_parse_item(item, text) for item in items)
    if key.count(Ellipsis) > 1:
        raise ValueError(f"slice {text!r} has more than one '...'")
    return key


def _parse_item(item, text):
    if item == "...":
        return Ellipsis
    if re.fullmatch(_INT, item):
        return int(item)
    match = _SLICE.match(item)
    if not match:
        raise ValueError(
            f"slice {text!r}: cannot read {item!r}; allowed are integers, start:stop:step and '...'"
        )
    start, stop, step = (int(part) if part else None for part in match.groups())
    if step == 0:
        raise ValueError(f"slice {text!r}: step of {item!r} must not be 0")
    return slice(start, stop, step)


def axis_indices(text, shape):
    """For each axis of `shape`, the indices the slice selects on it (an int axis gives one).
    Raises ValueError when the slice does not parse or does not fit the shape."""
    key = parse(text)
    explicit = [item for item in key if item is not Ellipsis]
    if len(explicit) > len(shape):
        raise ValueError(
            f"slice {text!r} has {len(explicit)} indices but the tensor has "
            f"{len(shape)} dimensions (shape {list(shape)})"
        )
    filler = (slice(None),) * (len(shape) - len(explicit))
    if Ellipsis in key:
        at = key.index(Ellipsis)
        full = key[:at] + filler + key[at + 1 :]
    else:
        full = key + filler
    per_axis = []
    for axis, (item, size) in enumerate(zip(full, shape, strict=True)):
        if isinstance(item, int):
            if not -size <= item < size:
                raise ValueError(
                    f"slice {text!r}: index {item} is out of range for axis {axis} "
                    f"of size {size} (allowed {-size}..{size - 1})"
                )
            per_axis.append([item % size])
        else:
            per_axis.append(list(range(*item.indices(size))))
    if not all(per_axis):
        raise ValueError(f"slice {text!r} selects no values of a tensor of shape {list(shape)}")
    return per_axis


def coordinates(text, shape):
    """The full coordinates of every element the slice selects, in numpy's (C) order."""
    return list(itertools.product(*axis_indices(text, shape)))
