"""The config: checked against its schema and the model, and made whole (each checkpoint with
every setting; `step_settings` turns them into each step's). The Snakefile does this when it
loads; tests and the benchmark call the same functions on config.yaml. No TensorFlow and no
Snakemake needed.
"""

import os
from pathlib import Path

import jsonschema
import yaml

from ckptorder import checkpoint_files, entries, orderings, sandbox
from ckptorder.formats import ckpt

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """Every problem of a config, one line each."""

    def __init__(self, problems):
        super().__init__("\n".join(f"config error: {problem}" for problem in problems))
        self.problems = problems


def load(path, schema=SCHEMA):
    """The config file at `path`, checked and made whole. Raises ConfigError."""
    return checked(yaml.safe_load(Path(path).read_text()), schema)


# Minutes a TensorFlow job may run where the config does not say (the 1 GiB model's restore
# takes about one).
TIME_LIMIT = 60
# How jobs that read a file from outside are confined where the config does not say.
SANDBOX = "auto"


def checked(config, schema=SCHEMA):
    """`config` made whole: `orderings: all` spelt out, `expected` {} and `time_limit`
    TIME_LIMIT where left out, and each entry of `checkpoints` given every setting, a training
    run's folder as one entry per checkpoint it lists (see `checkpoint_settings`). Raises
    ConfigError listing every problem of the first stage that finds any: the schema and the
    orderings, then the entries, then each checkpoint's settings against its files."""
    problems = schema_problems(config, schema) + ordering_problems(config)
    if not problems:
        config = {
            **config,
            "formats": formats_spelt_out(config.get("formats", "all")),
            "orderings": spelt_out(config["orderings"]),
            "expected": config.get("expected", {}),
            "time_limit": config.get("time_limit", TIME_LIMIT),
            "sandbox": config.get("sandbox", SANDBOX),
        }
        problems = (
            sandbox_problems(config["sandbox"])
            or entry_problems(config["checkpoints"])
            or expand_checkpoints(config)
        )
    if problems:
        raise ConfigError(problems)
    return config


def notes(config):
    """What the run says of the config before it runs, one line each: a run folder's listed
    checkpoints that are not on disk (it audits the others)."""
    given = config.get("checkpoints") if isinstance(config, dict) else None
    return [
        f"note: checkpoints[{number}] ({entry.get('name')}): its state file lists"
        f" {len(absent)} checkpoint(s) not on disk, audited without them:"
        f" {', '.join(os.path.basename(member) for member in absent)}"
        for number, entry in enumerate(given if isinstance(given, list) else [])
        if isinstance(entry, dict)
        for absent in [entries.absent_from_run(entry)]
        if absent
    ]


def sandbox_problems(mode):
    """That the sandbox is `required` where this machine's kernel cannot confine a job."""
    if mode == "required" and not sandbox.landlock_abi():
        return [
            f"sandbox: required, but {sandbox.NO_LANDLOCK}; sandbox: auto lets the guard alone"
            " check files from outside"
        ]
    return []


def expand_checkpoints(config):
    """Replace config's `checkpoints` by every checkpoint's settings; returns the problems."""
    problems, expanded = [], []
    for number, entry in enumerate(config["checkpoints"]):
        try:
            expanded += [(number, kind, s) for kind, s in checkpoint_settings(config, entry)]
        except ValueError as error:
            problems.append(f"checkpoints[{number}].prefix: {error}")
    config["checkpoints"] = [settings for _, _, settings in expanded]
    # The built model's formats share its settings: their problems are listed once.
    return problems or duplicate_names(config["checkpoints"]) + list(
        dict.fromkeys(
            problem
            for number, kind, settings in expanded
            for problem in checkpoint_problems(config, number, kind, settings)
        )
    )


def formats_spelt_out(formats):
    return [f for f in orderings.FORMATS if formats == "all" or f in formats]


def spelt_out(orderings_setting):
    return list(ckpt.ORDERINGS) if orderings_setting == "all" else orderings_setting


def checkpoint_settings(config, entry):
    """The checkpoints of one entry of `checkpoints`, each with its kind (`entries`) and every
    setting: the entry's own where it gives one, else the top-level one. `expected` stays None
    (reported, not judged) for a checkpoint from outside that sets none; the one the pipeline
    builds is always judged. Raises ValueError for a prefix of no kind the pipeline takes."""
    built = entry.get("build", False)
    # The top-level probes and partial_restore name the built model's variables: a checkpoint
    # from outside has its own or none.
    given = {
        "partial_restore": entry.get(
            "partial_restore", config["partial_restore"] if built else None
        ),
        "moving_averages": entry.get("moving_averages"),
    }
    named = spelt_out(entry.get("orderings", config["orderings"]))
    if built:
        named = [name for name in named if name in ckpt.BUILT_ORDERINGS]
    skipped = [] if "orderings" in entry else entries.lacking_settings(named, given)
    partial = given["partial_restore"]
    common = {
        "built": built,
        "format": "ckpt",
        "orderings": [name for name in named if name not in skipped],
        "skipped": skipped,
        "partial_variables": partial["variables"] if partial else None,
        "moving_averages": given["moving_averages"],
        "probes": entry.get("probes", config["probes"] if built else []),
        "expected": entry.get("expected", config["expected"] if built else None),
        "trust": entry.get("trust", config["trust"]),
        "model": entry.get("model"),
        "tags": entry.get("tags"),
    }
    if built:
        kind = entries.BuiltModel(entry, common)
    elif checkpoint_files.is_savedmodel_folder(entry["prefix"]):
        kind = entries.SavedModelFolder(entry, common)
    else:
        return entries.checkpoints_on_disk(entry, common)
    return [(kind, settings) for settings in kind.checkpoints(config)]


def duplicate_names(checkpoints):
    names = [checkpoint["name"] for checkpoint in checkpoints]
    return [
        f"checkpoints: the name {name!r} is given twice; names must be unique (the built"
        " model's other formats take NAME.FORMAT)"
        for name in sorted({name for name in names if names.count(name) > 1})
    ]


def entry_problems(entries):
    """What is wrong with the list of checkpoints as a whole, and with an entry's form."""
    problems = duplicate_names(entries)
    if sum(entry.get("build", False) for entry in entries) > 1:
        problems.append("checkpoints: build: true is given twice; the pipeline builds one model")
    for number, entry in enumerate(entries):
        if ("prefix" in entry) == ("build" in entry):
            problems.append(
                f"checkpoints[{number}]: give either prefix (a checkpoint on disk) or build: true"
                " (the seed's network, which the pipeline builds)"
            )
    return problems


def checkpoint_problems(config, number, kind, settings):
    """What the schema can't check of one checkpoint: that `expected` names orderings it runs,
    then what its kind checks (its files from outside, its names against the model)."""
    where = f"checkpoints[{number}]"
    key = f"{where}.expected" if "expected" in kind.entry else "expected"
    return [
        f"{key}.{ordering}: not an ordering checkpoint {settings['name']} runs "
        f"(orderings: {', '.join(settings['orderings'])})"
        for ordering in settings["expected"] or {}
        if ordering not in settings["orderings"]
    ] + kind.problems(config, where, settings)


def ordering_problems(config):
    """What `orderings`, top-level or an entry's, holds that is neither `all` nor a name
    ckpt.ORDERINGS defines."""
    if not isinstance(config, dict):
        return []
    given = {"orderings": config.get("orderings")}
    entries = config.get("checkpoints")
    for number, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and "orderings" in entry:
            given[f"checkpoints[{number}].orderings"] = entry["orderings"]
    return [problem for key, value in given.items() for problem in named_orderings(key, value)]


def named_orderings(key, given):
    if given == "all" or not isinstance(given, str | list):
        return []  # the schema names what is missing or of the wrong type
    allowed = f"allowed: all, or a list of {', '.join(ckpt.ORDERINGS)}"
    if isinstance(given, str):
        return [f"{key}: {given!r} is not allowed; {allowed}"]
    return [
        f"{key}[{number}]: {name!r} is not allowed; {allowed}"
        for number, name in enumerate(given)
        if isinstance(name, str) and name not in ckpt.ORDERINGS
    ]


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
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
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
