"""Load the built model from another format under each of its orderings (a variant, loaded
one way: README, "Formats"), each in a fresh graph, and record the value of every variable.

Writes, into the `--output` folder, what restore.py writes for a checkpoint: `saved.npz` and
`initial.npz` (the built checkpoint's), one `VARIANT.LOAD.npz` per ordering, `graph.json`, and
`inference.json` (the network's output after each ordering against build's, `inference.py`);
for object_ckpt also `assertions.json` (what each status assertion gave after each ordering,
and whether TensorFlow warned of unrestored values).
A load that raises records TensorFlow's error, and the other orderings still run.
"""

import logging

from ckptorder import orderings
from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import require_files
from ckptorder.cli import (
    THREADS,
    check_orderings,
    exit_skipping_teardown,
    implementation,
    load_settings,
    one_line_errors,
    step_arguments,
)
from ckptorder.step_settings import LoadSettings


def main(argv=None):
    options = [
        ("--exported", "export's folder of the variants"),
        ("--checkpoint", "the built checkpoint's prefix"),
        ("--inference", "build's input batch and output"),
        ("--output", "folder to write the values files to"),
        THREADS,
    ]
    args = step_arguments("load", __doc__, argv, options, LoadSettings, time_limit=True)
    graph = f"{args.checkpoint}.meta"
    with one_line_errors():
        settings = checked_settings(args.settings)
        require_files(args.checkpoint, graph, [args.exported])
        # TensorFlow, imported once the arguments are checked
        from ckptorder.inference import checked_inference

        inference = checked_inference(args.inference, settings["output_tensor"])
        audit = implementation(orderings.FORMATS[settings["format"]].load)
        with atomic_directory(args.output) as folder:
            audit(args.exported, args.checkpoint, graph, settings, args.threads, folder, inference)
    logging.info("read %s and %s; wrote %s", args.exported, args.checkpoint, args.output)


def checked_settings(text):
    """The settings `text` holds. Raises ValueError for an ordering the format lacks."""
    settings = load_settings(text, LoadSettings)
    orderings.exported_format(settings["format"])
    check_orderings(settings["orderings"], orderings.format_orderings(settings["format"]))
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
