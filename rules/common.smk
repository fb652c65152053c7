# Helpers of the Snakefile: config checks a schema can't express, and each step's settings.
import importlib.metadata
import json
import sys

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

import network
import slices

CHECKPOINT = "results/checkpoint/model.ckpt"
CHECKPOINT_FILES = multiext(CHECKPOINT, ".index", ".data-00000-of-00001", ".meta")


def checkpoint_prefix(files):
    """The prefix TensorFlow names a checkpoint by, from the checkpoint's files."""
    return files[0].removesuffix(".index")


def config_problems(config):
    """What the schema can't check: names and index ranges against the model, cross-references."""
    shapes = network.variable_shapes()
    problems = []
    seen = set()
    for number, probe in enumerate(config["probes"], start=1):
        where = f"probes[{number}]"
        try:
            variable = network.variable_name(probe["tensor"])
            slices.axis_indices(probe["slice"], shapes[variable])
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if (variable, probe["slice"]) in seen:
            problems.append(f"{where}: probes {variable} {probe['slice']} twice")
        seen.add((variable, probe["slice"]))
    for name in config["partial_restore"]["variables"]:
        if name not in shapes:
            problems.append(
                f"partial_restore.variables: {name!r} is not a variable of the model; "
                f"it has: {', '.join(shapes)}"
            )
    for ordering, override in config.get("expected", {}).items():
        if ordering not in config["orderings"]:
            problems.append(
                f"expected.{ordering}: not an ordering this config runs "
                f"(orderings: {', '.join(config['orderings'])})"
            )
        elif isinstance(override, dict):
            problems.extend(
                f"expected.{ordering}.{name}: not a variable of the model; it has: "
                f"{', '.join(shapes)}"
                for name in override
                if name not in shapes
            )
    return problems


def settings_json(**settings):
    """A step's settings as one value: Snakemake compares params by value alone."""
    return json.dumps(settings, sort_keys=True)


def installed_version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def build_settings():
    return settings_json(
        seed=config["seed"],
        tensorflow=installed_version("tensorflow"),
        **config["train"],
    )


def restore_settings(wildcards):
    settings = {"ordering": wildcards.ordering}
    if wildcards.ordering == "partial_restore":
        settings["partial_variables"] = config["partial_restore"]["variables"]
    return settings_json(**settings)


def report_settings():
    return settings_json(
        orderings=config["orderings"],
        partial_variables=config["partial_restore"]["variables"],
        expected=config.get("expected", {}),
        config=config,
        snakemake=snakemake.__version__,
    )


def values_file(state):
    return f"results/values/{state}.npz"


def every_state():
    return ["saved", "initial", *config["orderings"]]
