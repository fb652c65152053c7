"""Check a checkpoint entry's names against its files before any ordering runs: every probe's
tensor and slice, and every variable of its partial restore, must be in its graph (the
`.meta` file's variables, with their shapes); its moving averages' name must end keys of the
checkpoint. Reads the checkpoint's index and the graph once, runs nothing of the graph. On
success writes `--output`, a JSON object of what it found: the graph's variables, the
checkpoint's keys and how many of the variables the checkpoint holds under their own name and
shape. On failure, one line naming the entry, the graph and each unknown name with the
variables closest to it.
"""

import difflib
import json
import logging

from ckptorder import network, slices
from ckptorder.atomic import write_text
from ckptorder.checkpoint_files import require_files
from ckptorder.cli import (
    CONFINED,
    OPTIONAL,
    confined,
    load_settings,
    one_line_errors,
    step_arguments,
)
from ckptorder.step_settings import NamesSettings


def name_problems(settings, shapes, keys=()):
    """What is wrong with the settings' probes, partial_variables and moving_averages given
    the graph's variables (name to shape) and the checkpoint's `keys`, one phrase each."""
    problems = moving_average_problems(settings["moving_averages"], keys)
    for number, probe in enumerate(settings["probes"]):
        where = f"probes[{number}]"
        try:
            name = network.variable_name(probe["tensor"], shapes)
        except ValueError:
            problems.append(f"{where}: {unknown(probe['tensor'], shapes)}")
            continue
        try:
            slices.axis_indices(probe["slice"], shapes[name])
        except ValueError as error:
            problems.append(f"{where}: {name} {probe['slice']}: {error}")
    for name in settings["partial_variables"] or ():
        if name not in shapes:
            problems.append(f"partial_restore.variables: {unknown(name, shapes)}")
    return problems


def moving_average_problems(name, keys):
    """That no key of the checkpoint is a moving average named `name` (KEY/NAME), and the
    last parts of keys most like it."""
    if name is None or any(key.endswith(f"/{name}") for key in keys):
        return []
    found = difflib.get_close_matches(name, {key.rsplit("/", 1)[-1] for key in keys}, n=3)
    near = f"closest last parts: {', '.join(found)}" if found else "no last part is close"
    return [f"moving_averages: no key of the checkpoint ends in /{name} ({near})"]


def unknown(name, variables):
    """That `name` is no variable of the graph, and the variables closest to it."""
    stem = name.removesuffix(":0").removesuffix("/read")
    found = difflib.get_close_matches(stem, variables, n=3)
    near = f"closest: {', '.join(found)}" if found else "no name is close"
    return f"{name!r} is not a variable of the graph ({near})"


def shared_variables(variables, keys):
    """The graph's variables the checkpoint holds under their own name, with their shape."""
    return [
        name for name, (shape, _) in variables.items() if name in keys and keys[name][0] == shape
    ]


def main(argv=None):
    options = [
        ("--checkpoint", "checkpoint prefix to read"),
        ("--graph", "the .meta file to restore into (default: PREFIX.meta)", OPTIONAL),
        ("--output", "JSON file to write what was found to"),
        *CONFINED,
    ]
    args = step_arguments("names", __doc__, argv, options, NamesSettings)
    graph = args.graph or f"{args.checkpoint}.meta"
    with one_line_errors():
        settings = load_settings(args.settings, NamesSettings)
        require_files(args.checkpoint, graph)

    def check(outputs):
        from ckptorder import tfgraph  # TensorFlow, once the arguments are checked
        from ckptorder.guard import importing

        keys = tfgraph.checkpoint_keys(args.checkpoint)
        variables = tfgraph.graph_variables(importing.read_meta_graph(graph))
        shapes = {name: shape for name, (shape, _) in variables.items()}
        problems = name_problems(settings, shapes, keys)
        if problems:
            raise ValueError(
                f"checkpoint {settings['checkpoint']} ({graph}): {'; '.join(problems)}"
            )
        shared = shared_variables(variables, keys)
        found = {"variables": len(variables), "keys": len(keys), "shared": len(shared)}
        write_text(outputs[0], json.dumps(found, sort_keys=True) + "\n")
        logging.info("found %s", found)

    confined(args, check, [args.output], [args.checkpoint, graph])
    logging.info("read %s and %s; wrote %s", args.checkpoint, graph, args.output)


if __name__ == "__main__":
    main()
