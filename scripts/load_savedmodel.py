"""Audit a SavedModel brought from outside: load it every way that applies (TF1's loader.load,
with and without the initializers after it; tf.saved_model.load in graph mode, then the
restore it asks for or the initializers; tf.saved_model.load, eager), each in a fresh graph or
load, and record the value of every variable after each load.

Writes, into the `--output` folder, what restore.py writes for a checkpoint: `saved.npz` (each
variable as the SavedModel's `variables/variables` holds it, by its key: a TF1 variable's name
or a TF2 object's path), `initial.npz` (what the graph's initializers give; none in a TF2
SavedModel), one `KIND.LOAD.npz` per load, `graph.json` and `inference.json` (each serving
signature's outputs after each load, `ckptorder/signatures.py`). A load that raises records
TensorFlow's error, and the other loads still run. Before any load, the guard
(`ckptorder/guard/`) checks what the loads run of its graph (the restore and the init
op, in any function at any depth) and refuses an op they do not need; then every load fails,
refused, unless the settings trust the SavedModel.
"""

import logging

from ckptorder import orderings
from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import is_savedmodel_folder
from ckptorder.cli import (
    CONFINED,
    THREADS,
    check_orderings,
    confined,
    exit_skipping_teardown,
    load_settings,
    one_line_errors,
    step_arguments,
)
from ckptorder.step_settings import SavedModelSettings


def main(argv=None):
    options = [
        ("--savedmodel", "the SavedModel's folder (holding saved_model.pb)"),
        ("--output", "folder to write the values files to"),
        THREADS,
        *CONFINED,
    ]
    args = step_arguments(
        "load_savedmodel", __doc__, argv, options, SavedModelSettings, time_limit=True
    )
    with one_line_errors():
        settings = checked_settings(args.settings)
        if not is_savedmodel_folder(args.savedmodel):
            raise ValueError(f"{args.savedmodel}: not a SavedModel's folder (no saved_model.pb)")

    def audit(outputs):
        from ckptorder import given_savedmodels  # TensorFlow, once the arguments are checked

        with atomic_directory(outputs[0]) as folder:
            given_savedmodels.audit_given_savedmodel(
                args.savedmodel, settings, args.threads, folder
            )

    confined(args, audit, [args.output], [args.savedmodel])
    logging.info("read %s; wrote %s", args.savedmodel, args.output)


def checked_settings(text):
    """The settings `text` holds. Raises ValueError for an unknown ordering."""
    settings = load_settings(text, SavedModelSettings)
    check_orderings(settings["orderings"], list(orderings.GIVEN_SAVEDMODEL.orderings))
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
