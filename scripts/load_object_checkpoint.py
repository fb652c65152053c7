"""Audit a TF2 object-based checkpoint brought from outside (tf.train.Checkpoint's files), or
a TF1 one against new TF2 code. Without a model, list a TF2 checkpoint: every key with its
object paths, shape and dtype, and each variable's value. With `model` (FILE.py:FUNCTION, code:
it runs only where the settings trust it), restore it into what FUNCTION builds each way that
applies (the orderings `--settings` names: a TF2 checkpoint's in graph mode and eager, a TF1
one's by name), each on a model of its own, and record every variable's value, what each of
the status object's assertions gives and whether TensorFlow warned of saved values left
unrestored.

Writes, into the `--output` folder, what restore.py writes for a checkpoint: `saved.npz` (by
the model's object path, the value of the key a restore matches it to; without a model, by
key), `initial.npz` (the model's initializers' values; none without a model), one
`VARIANT.LOAD.npz` per ordering, `assertions.json` and `graph.json` (the compatibility rows: each
of the model's variables against the checkpoint's keys, or the keys alone).
"""

import logging

from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import has_object_graph, require_files
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
from ckptorder.formats import given_object_ckpt
from ckptorder.imports import model_files
from ckptorder.step_settings import ObjectCheckpointSettings


def main(argv=None):
    options = [
        (
            "--checkpoint",
            "the checkpoint's prefix (a TF2 one's PREFIX.index holds its object graph)",
        ),
        ("--output", "folder to write the values files to"),
        THREADS,
        *CONFINED,
    ]
    args = step_arguments(
        "load_object_checkpoint", __doc__, argv, options, ObjectCheckpointSettings, time_limit=True
    )
    with one_line_errors():
        require_files(args.checkpoint, None)
        variant = "tf2" if has_object_graph(f"{args.checkpoint}.index") else "tf1"
        settings = checked_settings(args.settings, variant)

    def audit(outputs):
        from ckptorder import given_object_checkpoints  # TensorFlow, once the arguments are checked

        with atomic_directory(outputs[0]) as folder:
            try:
                given_object_checkpoints.audit_given_object_checkpoint(
                    args.checkpoint, settings, args.threads, folder
                )
            except ValueError as error:
                raise ValueError(f"checkpoint {settings['checkpoint']}: {error}") from None

    model = settings["model"] and model_files(settings["model"].rpartition(":")[0])
    confined(args, audit, [args.output], [args.checkpoint, *(model or [])])
    logging.info("read %s; wrote %s", args.checkpoint, args.output)


def checked_settings(text, variant):
    """The settings `text` holds for a checkpoint of `variant` (tf2 or tf1). Raises ValueError
    for an ordering not of its variant, for a TF1 checkpoint or orderings without a model and
    for a model not trusted."""
    settings = load_settings(text, ObjectCheckpointSettings)
    check_orderings(settings["orderings"], given_object_ckpt.variant_orderings(variant))
    if (settings["orderings"] or variant == "tf1") and not settings["model"]:
        raise ValueError(
            f"checkpoint {settings['checkpoint']}: its orderings need a model (a TF1"
            " checkpoint is restored into one alone)"
        )
    if settings["model"] and not settings["trust"]:
        raise ValueError(
            f"checkpoint {settings['checkpoint']}: model {settings['model']} is code: it runs"
            " only with trust: true"
        )
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
