"""The config: checked against its schema and the model, made whole, and turned into each
step's settings. The Snakefile does this when it loads; tests and the benchmark call the same
functions on config.yaml. No TensorFlow and no Snakemake needed.
"""

import importlib.metadata
from pathlib import Path

import jsonschema
import yaml

from ckptorder import network, orderings, slices
from ckptorder.cli import dump_settings

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """Every problem of a config, one line each."""

    def __init__(self, problems):
        super().__init__("\n".join(f"config error: {problem}" for problem in problems))
        self.problems = problems


def load(path, schema=SCHEMA):
    """The config file at `path`, checked and made whole. Raises ConfigError."""
    return checked(yaml.safe_load(Path(path).read_text()), schema)


def checked(config, schema=SCHEMA):
    """`config` made whole: `orderings: all` spelt out, `expected` {} where it is left out.
    Raises ConfigError listing every problem: the schema's first, then what it can't express."""
    problems = schema_problems(config, schema) + ordering_problems(config)
    if not problems:
        config = {
            **config,
            "orderings": (
                list(orderings.ORDERINGS) if config["orderings"] == "all" else config["orderings"]
            ),
            "expected": config.get("expected", {}),
        }
        problems = model_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


# JSON schema's "integer" admits 2.0; a setting that counts must be written as a whole number.
_STRICT = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def schema_problems(config, schema=SCHEMA):
    schema = yaml.safe_load(Path(schema).read_text())
    problems = []
    for error in sorted(_STRICT(schema).iter_errors(config), key=lambda e: list(e.path)):
        key = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in error.path)
        key = key.lstrip(".") or "(top level)"
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema["properties"]))
            allowed = ", ".join(error.schema["properties"])
            problems.append(f"{key}: unknown key(s) {', '.join(unknown)}; allowed: {allowed}")
        elif error.validator == "enum":
            allowed = ", ".join(map(str, error.validator_value))
            problems.append(f"{key}: {error.instance!r} is not allowed; allowed: {allowed}")
        elif error.validator == "oneOf":
            problems.append(
                f"{key}: {error.instance!r} is not allowed; {error.schema['description']}"
            )
        else:
            problems.append(f"{key}: {error.message}")
    return problems


def ordering_problems(config):
    """What `orderings` holds that is neither `all` nor a name orderings.ORDERINGS defines."""
    given = config.get("orderings") if isinstance(config, dict) else None
    if given == "all" or not isinstance(given, str | list):
        return []  # the schema names what is missing or of the wrong type
    allowed = f"allowed: all, or a list of {', '.join(orderings.ORDERINGS)}"
    if isinstance(given, str):
        return [f"orderings: {given!r} is not allowed; {allowed}"]
    return [
        f"orderings[{number}]: {name!r} is not allowed; {allowed}"
        for number, name in enumerate(given, start=1)
        if isinstance(name, str) and name not in orderings.ORDERINGS
    ]


def model_problems(config):
    """What the schema can't check: names and index ranges against the model, cross-references."""
    shapes = network.variable_shapes(config["model"]["extra_layers"])
    problems = []
    seen = set()
    for number, probe in enumerate(config["probes"], start=1):
        where = f"probes[{number}]"
        try:
            variable = network.variable_name(probe["tensor"], shapes)
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
    for ordering, override in config["expected"].items():
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


def installed_version(package):
    """The installed version, read from the package's metadata without importing it."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# Each step's `--settings` value, from a checked config. A setting a step is given is one
# whose change reruns it, so each step gets just what it uses (the report keeps the whole
# config for provenance.json).


def build_settings(config):
    """build's settings; TensorFlow's version is one, since it changes the trained bytes."""
    return dump_settings(
        {
            "seed": config["seed"],
            "tensorflow": installed_version("tensorflow"),
            "extra_layers": config["model"]["extra_layers"],
            **config["train"],
        }
    )


def restore_settings(config, ordering):
    """restore's settings for one ordering: the partial Saver's variables only where the
    ordering restores part of the model, so that they rerun no other ordering."""
    partial = "restore_partial" in orderings.steps(ordering)
    return dump_settings(
        {
            "ordering": ordering,
            "partial_variables": config["partial_restore"]["variables"] if partial else None,
            "trust": config["trust"],
        }
    )


def extract_settings(config):
    return dump_settings({"probes": config["probes"]})


def report_settings(config):
    return dump_settings(
        {
            "orderings": config["orderings"],
            "partial_variables": config["partial_restore"]["variables"],
            "expected": config["expected"],
            "probes": config["probes"],
            "config": config,
            "snakemake": installed_version("snakemake"),
        }
    )
