"""Audit one checkpoint: rebuild its network from a `.meta` file alone, apply each ordering of
"initialise" and "restore" to it in a fresh graph, and record the value of every variable.

Writes, into the `--output` folder, `saved.npz` (each variable as the checkpoint's files hold
it, under its name or the key compatibility suggests), `initial.npz` (as the graph's
initializers set it in a fresh session), one `ORDERING.npz` per ordering, and `graph.json`:
the variables whose initializers are unseeded (random ops without a seed give new values on
every run), each variable against the checkpoint's keys and the map of suggested keys. A
variable bit for bit equal to its saved or initial value is recorded as a reference to that
state; one that reading raises for, as uninitialized; an ordering that raises (a key missing
from the checkpoint, a shape that differs) records TensorFlow's error, and the other orderings
still run.

Only the part of the graph the orderings need is imported (the variables, their
initializers and reads, the Saver's restore op and what they reach), and before it is, the
guard (`ckptorder/guard/`) checks that part and refuses an op that initialising and
restoring do not need, or an allocation over a budget tied to the checkpoint's size, unless
the settings trust the graph. With --time-limit, the step stops after that many minutes.
"""

import logging

from ckptorder.atomic import atomic_directory
from ckptorder.checkpoint_files import named_prefix, require_files
from ckptorder.cli import (
    CONFINED,
    OPTIONAL,
    THREADS,
    check_orderings,
    confined,
    exit_skipping_teardown,
    load_settings,
    one_line_errors,
    step_arguments,
)
from ckptorder.formats import ckpt
from ckptorder.step_settings import RestoreSettings


def main(argv=None):
    options = [
        ("--checkpoint", "checkpoint prefix to read"),
        ("--graph", "the .meta file to restore into (default: PREFIX.meta)", OPTIONAL),
        ("--output", "folder to write the values files to"),
        ("--inference", "build's input batch and output (with output_tensor set)", OPTIONAL),
        THREADS,
        *CONFINED,
    ]
    args = step_arguments("restore", __doc__, argv, options, RestoreSettings, time_limit=True)
    graph = args.graph or f"{args.checkpoint}.meta"
    with one_line_errors():
        settings = checked_settings(args.settings)
        require_files(args.checkpoint, graph)

    def audit(outputs):
        from ckptorder import restoring  # TensorFlow, imported once the arguments are checked
        from ckptorder.inference import checked_inference

        inference = checked_inference(args.inference, settings["output_tensor"])
        with atomic_directory(outputs[0]) as folder, named_prefix(args.checkpoint) as prefix:
            restoring.audit_checkpoint(prefix, graph, settings, args.threads, folder, inference)

    confined(args, audit, [args.output], [args.checkpoint, graph, args.inference])
    logging.info("read %s and %s; wrote %s", args.checkpoint, graph, args.output)


def checked_settings(text):
    """The settings `text` holds. Raises ValueError for an unknown ordering."""
    settings = load_settings(text, RestoreSettings)
    check_orderings(settings["orderings"], list(ckpt.ORDERINGS))
    return settings


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
