"""Write the built checkpoint in another format, once per variant (README, "Formats"):
`savedmodel`, a TF1 SavedModel folder per variant (serving tag, a signature from the input to
the network's output; no init op, `main_op()`, or `main_op_with_restore`); `frozen_pb`, a
frozen GraphDef `VARIANT.pb` (its variables folded into constants after a restore, or after a
restore and then the initializers); `object_ckpt`, TF2's tf.train.Checkpoint files of the
network as a tf.Module, alone (`model/`) and with an optimizer's state
(`model_and_optimizer/`).
"""

import logging

from ckptorder import orderings
from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import require_files
from ckptorder.cli import (
    THREADS,
    exit_skipping_teardown,
    implementation,
    load_settings,
    one_line_errors,
    step_arguments,
)
from ckptorder.step_settings import ExportSettings


def main(argv=None):
    options = [
        ("--checkpoint", "the built checkpoint's prefix"),
        ("--output", "folder to write the variants to"),
        THREADS,
    ]
    args = step_arguments("export", __doc__, argv, options, ExportSettings, time_limit=True)
    graph = f"{args.checkpoint}.meta"
    with one_line_errors():
        settings = load_settings(args.settings, ExportSettings)
        format_ = orderings.exported_format(settings["format"])
        require_files(args.checkpoint, graph)
        # TensorFlow, imported once the arguments are checked
        export = implementation(format_.export)
        with atomic_directory(args.output) as folder:
            export(args.checkpoint, graph, settings, args.threads, folder)
    logging.info("read %s; wrote %s", args.checkpoint, args.output)


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
