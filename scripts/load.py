"""Load the built model from another format under each of its orderings (a variant, loaded
one way: README, "Formats"), each in a fresh graph, and record the value of every variable.

Writes, into the `--output` folder, what restore.py writes for a checkpoint: `saved.npz` and
`initial.npz` (the built checkpoint's), one `VARIANT.LOAD.npz` per ordering, `graph.json`, and
`inference.json` (the network's output after each ordering against build's, `inference.py`);
for object_ckpt also `assertions.json` (what each status assertion gave after each ordering,
and whether TensorFlow warned of unrestored values).
A load that raises records TensorFlow's error, and the other orderings still run.
"""

import argparse
import logging
import os

from ckptorder import orderings
from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import missing_files
from ckptorder.cli import (
    add_settings_argument,
    add_time_limit_argument,
    exit_skipping_teardown,
    fail,
    load_settings,
    start_logging,
    stop_after,
)

SETTINGS = {
    "checkpoint": "the name of what is loaded (for messages)",
    "format": f"one of {', '.join(orderings.EXPORTED_FORMATS)}",
    "seed": "the seed of the object_ckpt network's initializers",
    "extra_layers": "filter counts of conv layers added after conv_3 (the object_ckpt network)",
    "orderings": "a list of the format's orderings, VARIANT.LOAD",
    "output_tensor": "the network's output, for the inference check",
    "trust": "run what the guard refuses of a file (else that ordering fails, refused)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    add_settings_argument(parser, SETTINGS)
    parser.add_argument("--exported", required=True, help="export's folder of the variants")
    parser.add_argument("--checkpoint", required=True, help="the built checkpoint's prefix")
    parser.add_argument("--inference", required=True, help="build's input batch and output")
    parser.add_argument("--output", required=True, help="folder to write the values files to")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow's thread pools")
    add_time_limit_argument(parser)
    args = parser.parse_args(argv)
    start_logging("load")
    stop_after(args.time_limit, "load")
    graph = f"{args.checkpoint}.meta"
    try:
        settings = checked_settings(args.settings)
        missing = missing_files(args.checkpoint, graph)
        if not os.path.isdir(args.exported):
            missing.append(args.exported)
        if missing:
            raise ValueError(f"file(s) missing: {', '.join(missing)}")
        # TensorFlow, imported once the arguments are checked
        from ckptorder.inference import checked_inference

        inference = checked_inference(args.inference, settings["output_tensor"])
        if settings["format"] == "object_ckpt":
            from ckptorder import object_checkpoints

            with atomic_directory(args.output) as folder:
                object_checkpoints.audit(
                    args.exported, args.checkpoint, settings, args.threads, folder, inference
                )
        else:
            from ckptorder import loading

            with atomic_directory(args.output) as folder:
                loading.audit(
                    args.exported, args.checkpoint, graph, settings, args.threads, folder, inference
                )
    except ValueError as error:
        fail(str(error))
    logging.info("read %s and %s; wrote %s", args.exported, args.checkpoint, args.output)


def checked_settings(text):
    """The settings `text` holds. Raises ValueError for an ordering the format lacks."""
    settings = load_settings(text, SETTINGS)
    orderings.exported_format(settings["format"])
    allowed = orderings.format_orderings(settings["format"])
    unknown = [name for name in settings["orderings"] if name not in allowed]
    if unknown:
        raise ValueError(f"unknown ordering(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
