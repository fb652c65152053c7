"""What every step's command line shares: settings as one JSON value, one-line errors, and
the exit of a step that ran TensorFlow."""

import argparse
import contextlib
import faulthandler
import importlib
import json
import logging
import os
import sys
import threading
from pathlib import Path

from ckptorder import sandbox
from ckptorder.atomic import discard_unfinished

# Seconds after the time limit at which the process ends even if Python cannot run (a native
# call that holds the interpreter's lock): faulthandler's own thread then ends it.
HARD_STOP_AFTER = 60


# The keywords of an option of `step_arguments` that may be left out.
OPTIONAL = {"required": False}
# A TensorFlow step's thread count, an option of `step_arguments`.
THREADS = ("--threads", "TensorFlow's thread pools", OPTIONAL | {"type": int, "default": 1})
# How a step that reads a file from outside is confined (`confined`), options of
# `step_arguments`.
SANDBOX = (
    "--sandbox",
    "auto: confined where the kernel can (Landlock), else run as it is with a line in the log;"
    " required: an error where it cannot (default: auto)",
    OPTIONAL | {"choices": sandbox.MODES, "default": "auto"},
)
MEMORY = (
    "--memory-mb",
    "the memory the confined step may take (default: 1000 MB and 3 times its files' size)",
    OPTIONAL | {"type": int},
)
CONFINED = (SANDBOX, MEMORY)
# Set by the tests alone, to show what the sandbox stops by itself: every graph runs as if
# trusted. No setting of the pipeline's reaches it.
GUARD_OFF_FOR_TESTS = os.environ.get("CKPTORDER_TESTS_SWITCH_THE_GUARD_OFF") == "1"


def step_arguments(step, description, argv, options, settings=None, time_limit=False):
    """The parsed command line of the step `step`, its logging started: `options`, each
    (flag, help) for a required value or (flag, help, argparse's keywords); `--settings`
    where the step has `settings` (its class in `step_settings.py`); `--time-limit` for a
    TensorFlow step, whose clock then starts. A wrong command line exits with argparse's
    usage error."""
    parser = argparse.ArgumentParser(description=description)
    if settings is not None:
        add_settings_argument(parser, settings)
    for flag, meaning, *keywords in options:
        parser.add_argument(flag, help=meaning, **({"required": True} | dict(*keywords)))
    if time_limit:
        add_time_limit_argument(parser)
    args = parser.parse_args(argv)
    start_logging(step)
    if time_limit:
        stop_after(args.time_limit, step)
    return args


@contextlib.contextmanager
def one_line_errors():
    """Stop the step with its one-line error (`fail`) where the block raises ValueError."""
    try:
        yield
    except ValueError as error:
        fail(str(error))


def confined(args, work, outputs, reads):
    """Run `work(staged)` confined (`sandbox.run_confined`): it reads `reads` (an entry's
    files, a folder whole; None left out) and writes each of `outputs` where `staged` says.
    From a process that has imported TensorFlow already (a test calling main()), a forked
    child could not use it: `work(outputs)` runs here, unconfined."""
    reads = [path for path in reads if path is not None]
    links = sandbox.links_out(reads)
    if links:
        fail(f"{links[0]}: a job reads only files inside what it is given (copy the file there)")

    def with_one_line_errors(staged):
        with one_line_errors():
            work(staged)

    if "tensorflow" in sys.modules:
        with_one_line_errors(outputs)
        return
    memory = args.memory_mb or sandbox.memory_mb(sandbox.files_mb(reads))
    with one_line_errors():
        sandbox.run_confined(with_one_line_errors, outputs, reads, memory, args.sandbox)


def add_settings_argument(parser, settings):
    """The `--settings` option every step takes: one JSON object holding exactly the keys of
    the step's `settings` class (`step_settings.py`; config.yaml's values reach it this way,
    in a file: @PATH)."""
    keys = settings.meanings()
    described = "; ".join(f"{key}: {meaning}" for key, meaning in keys.items())
    parser.add_argument(
        "--settings",
        required=True,
        help=f"JSON object, or @FILE holding one, with the keys {', '.join(keys)} ({described})",
    )


def check_orderings(names, allowed):
    """Raises ValueError naming the orderings of `names` that are not `allowed`, and those."""
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown ordering(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def implementation(reference):
    """The function a format's "module:function" reference (`orderings.Format`) names, its
    ckptorder module imported now: export and load import TensorFlow only once their
    arguments are checked."""
    module, function = reference.split(":")
    return getattr(importlib.import_module(f"ckptorder.{module}"), function)


def load_settings(text, settings):
    """The JSON object `text` is, or that the file @PATH holds, which must hold exactly the
    keys of the step's `settings` class. Raises ValueError."""
    keys = settings.meanings()
    where = "--settings"
    if text.startswith("@"):
        where = text[1:]
        try:
            text = Path(where).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"--settings {where}: {error.strerror}") from None
    try:
        given = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where} is not valid JSON: {error}") from None
    if not isinstance(given, dict):
        raise ValueError(f"{where} must be a JSON object")
    if GUARD_OFF_FOR_TESTS and "trust" in given:
        given["trust"] = True
    unknown, missing = sorted(set(given) - set(keys)), [k for k in keys if k not in given]
    wrong = []
    if unknown:
        wrong.append(f"unknown key(s) {', '.join(unknown)}")
    if missing:
        wrong.append(f"no {', '.join(missing)}")
    if wrong:
        raise ValueError(f"{where} has {' and '.join(wrong)}; it takes: {', '.join(keys)}")
    return given


def start_logging(step):
    """Log INFO lines as `STEP: message`; the first says which SLURM job runs the step, where
    one does (SLURM sets SLURM_JOB_ID in its jobs' environment)."""
    logging.basicConfig(level=logging.INFO, format=f"{step}: %(message)s")
    if "SLURM_JOB_ID" in os.environ:
        logging.info("running as SLURM job %s", os.environ["SLURM_JOB_ID"])


def add_time_limit_argument(parser):
    parser.add_argument(
        "--time-limit",
        type=float,
        help="minutes the step may run; past them it stops with an error, leaving no output"
        " (default: no limit; the pipeline gives each TensorFlow job config.yaml's time_limit)",
    )


def stop_after(minutes, step):
    """From now on, end the step after `minutes` of wall-clock time (None: never) with a
    one-line error and no output: a graph can run for ever (a loop in a trusted graph)."""
    if minutes is None:
        return
    # The error goes where stderr goes now, even while TensorFlow's start-up holds fd 2.
    terminal = os.dup(2)

    def stop():
        discard_unfinished()
        message = (
            f"error: {step} stopped after its time limit of {minutes:g} minutes"
            " (time_limit in config.yaml); nothing was written\n"
        )
        sys.stderr.flush()
        os.write(terminal, message.encode())
        os._exit(1)

    timer = threading.Timer(minutes * 60, stop)
    timer.daemon = True
    timer.start()
    faulthandler.dump_traceback_later(minutes * 60 + HARD_STOP_AFTER, exit=True)


def fail(message):
    """Stop the step with one line on stderr and a non-zero exit: for main() alone."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def exit_skipping_teardown():
    """End a step that succeeded without Python's teardown of TensorFlow, which costs about
    0.6 s of CPU per process (a fifth of a restore job) and achieves nothing here: every
    output is already closed and renamed into place."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
