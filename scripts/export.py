"""Write the built checkpoint in another format, once per variant (README, "Formats"):
`savedmodel`, a TF1 SavedModel folder per variant (serving tag, a signature from the input to
the network's output; no init op, `main_op()`, or `main_op_with_restore`); `frozen_pb`, a
frozen GraphDef `VARIANT.pb` (its variables folded into constants after a restore, or after a
restore and then the initializers); `object_ckpt`, TF2's tf.train.Checkpoint files of the
network as a tf.Module, alone (`model/`) and with an optimizer's state
(`model_and_optimizer/`).
"""

import argparse
import logging

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
    "format": f"one of {', '.join(orderings.EXPORTED_FORMATS)}",
    "seed": "the seed of the object_ckpt network's initializers and optimizer batch",
    "extra_layers": "filter counts of conv layers added after conv_3 (the network's output)",
    "trust": "run the graph even where the guard refuses it (for a checkpoint you trust)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    add_settings_argument(parser, SETTINGS)
    parser.add_argument("--checkpoint", required=True, help="the built checkpoint's prefix")
    parser.add_argument("--output", required=True, help="folder to write the variants to")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow's thread pools")
    add_time_limit_argument(parser)
    args = parser.parse_args(argv)
    start_logging("export")
    stop_after(args.time_limit, "export")
    graph = f"{args.checkpoint}.meta"
    try:
        settings = load_settings(args.settings, SETTINGS)
        orderings.exported_format(settings["format"])
        missing = missing_files(args.checkpoint, graph)
        if missing:
            raise ValueError(f"checkpoint file(s) missing: {', '.join(missing)}")
        # TensorFlow, imported once the arguments are checked
        if settings["format"] == "object_ckpt":
            from ckptorder import object_checkpoints

            with atomic_directory(args.output) as folder:
                object_checkpoints.export(args.checkpoint, settings, args.threads, folder)
        else:
            from ckptorder import exporting

            with atomic_directory(args.output) as folder:
                exporting.export(
                    settings["format"], args.checkpoint, graph, settings, args.threads, folder
                )
    except ValueError as error:
        fail(str(error))
    logging.info("read %s; wrote %s", args.checkpoint, args.output)


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
