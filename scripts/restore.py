"""Rebuild the network from a checkpoint's `.meta` file alone and apply one ordering of
"initialise" and "restore" to it, then record the value of every variable.

Before any of the graph is imported, the guard (`ckptorder/graph_guard.py`) checks what the
ordering would run of it and refuses an op that initialising and restoring do not need, unless
the settings trust the graph. Each variable bit for bit equal to build's saved or initial
value is recorded as a reference to that state, the others as arrays.
"""

import argparse
import logging
import os

from ckptorder import orderings
from ckptorder.checkpoint_files import DATA_SUFFIX
from ckptorder.cli import add_settings_argument, exit_skipping_teardown, fail, load_settings

SETTINGS = {
    "ordering": f"one of {', '.join(orderings.ORDERINGS)}",
    "partial_variables": "the variables a partial restore restores (null for other orderings)",
    "trust": "run the graph even where the guard refuses it (for a checkpoint you trust)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    add_settings_argument(parser, SETTINGS)
    parser.add_argument("--checkpoint", required=True, help="checkpoint prefix to read")
    parser.add_argument("--saved", required=True, help="build's values file of the saved state")
    parser.add_argument("--initial", required=True, help="build's values file of the initial state")
    parser.add_argument("--output", required=True, help="values file to write")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow's thread pools")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="restore: %(message)s")
    references = {"saved": args.saved, "initial": args.initial}
    try:
        settings = checked_settings(args.settings)
        missing = missing_files(args.checkpoint, settings["ordering"])
        if missing:
            raise ValueError(f"checkpoint file(s) missing: {', '.join(missing)} (run build again)")
        from ckptorder import restoring  # TensorFlow, imported once the arguments are checked

        restoring.apply_ordering(args.checkpoint, settings, args.threads, args.output, references)
    except ValueError as error:
        fail(str(error))
    logging.info(
        "read %s, %s, %s; wrote %s", args.checkpoint, args.saved, args.initial, args.output
    )


def missing_files(prefix, ordering):
    """The checkpoint files the ordering reads that are not there."""
    suffixes = [".meta"]
    if orderings.reads_checkpoint(ordering):
        suffixes += [".index", DATA_SUFFIX]
    return [prefix + s for s in suffixes if not os.path.exists(prefix + s)]


def checked_settings(text):
    """The settings `text` holds. Raises ValueError for an unknown ordering."""
    settings = load_settings(text, SETTINGS)
    if settings["ordering"] not in orderings.ORDERINGS:
        raise ValueError(
            f"unknown ordering {settings['ordering']!r}; allowed: {', '.join(orderings.ORDERINGS)}"
        )
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
