"""The config: checked against its schema and the model, and made whole (each checkpoint with
every setting; `step_settings` turns them into each step's). The Snakefile does this when it
loads; tests and the benchmark call the same functions on config.yaml. No TensorFlow and no
Snakemake needed.
"""

from pathlib import Path

import jsonschema
import yaml

from ckptorder import checkpoint_files, network, orderings, sandbox, slices
from ckptorder.formats import ckpt, given_object_ckpt, given_savedmodel

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
# Where build saves the seed's network: the prefix of the checkpoint entry with build: true.
BUILT_PREFIX = "results/checkpoint/model.ckpt"


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
            expanded += [(number, entry, s) for s in checkpoint_settings(config, entry)]
        except ValueError as error:
            problems.append(f"checkpoints[{number}].prefix: {error}")
    config["checkpoints"] = [settings for _, _, settings in expanded]
    # The built model's formats share its settings: their problems are listed once.
    return problems or duplicate_names(config["checkpoints"]) + list(
        dict.fromkeys(
            problem
            for number, entry, settings in expanded
            for problem in checkpoint_problems(config, number, entry, settings)
        )
    )


def formats_spelt_out(formats):
    return [f for f in orderings.FORMATS if formats == "all" or f in formats]


def spelt_out(orderings_setting):
    return list(ckpt.ORDERINGS) if orderings_setting == "all" else orderings_setting


def checkpoint_settings(config, entry):
    """The checkpoints of one entry of `checkpoints`, each with every setting: the entry's own
    where it gives one, else the top-level one. `expected` stays None (reported, not judged)
    for a checkpoint from outside that sets none; the one the pipeline builds is always
    judged. A `prefix` that is a training run's folder gives one checkpoint per checkpoint its
    state file lists, named NAME-STEP (`run` and `step` say which). Raises ValueError for a
    folder without a state file."""
    built = entry.get("build", False)
    prefix = BUILT_PREFIX if built else entry.get("prefix")
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
    skipped = [] if "orderings" in entry else lacking_settings(named, given)
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
        return built_settings(config, entry["name"], common)
    if checkpoint_files.is_savedmodel_folder(prefix):
        return [savedmodel_settings(entry, common)]
    listed = [(None, entry["name"], prefix)]
    other = checkpoint_files.other_kind(prefix, entry.get("graph", f"{prefix}.meta"))
    if other:
        raise ValueError(f"{other}; {checkpoint_files.TAKES}")
    if checkpoint_files.is_run_folder(prefix):
        members = checkpoint_files.listed_checkpoints(prefix)
        if len(members) == 1:  # a folder of one checkpoint: no training run to follow
            listed = [(None, entry["name"], members[0][1])]
        else:
            listed = [(step, f"{entry['name']}-{step}", member) for step, member in members]
    members = [
        {
            "name": name,
            "prefix": member,
            "graph": entry.get("graph", f"{member}.meta"),
            "checkpoint": name,
            "run": entry["name"] if step is not None else None,
            "step": step,
            "output_tensor": None,
            **common,
        }
        for step, name, member in listed
    ]
    return [object_or_tf1(settings) for settings in members]


def object_or_tf1(settings):
    """A TF1 checkpoint's settings, or a TF2 checkpoint's (its index holds an object graph),
    or, where the entry gives a model, a TF1 checkpoint's to restore into that model."""
    if checkpoint_files.has_object_graph(f"{settings['prefix']}.index"):
        return object_checkpoint_settings(settings, "tf2")
    return object_checkpoint_settings(settings, "tf1") if settings["model"] else settings


# What an entry from outside of another kind than a TF1 checkpoint (a checkpoint restored into
# a model, a SavedModel's folder) is not given: every way of loading it runs, on no graph file.
NOT_FOR_OTHER_KINDS = ("graph", "probes", "partial_restore", "moving_averages", "orderings")
# A SavedModel's folder is not given a model either: its graph is its own.
NOT_FOR_SAVEDMODELS = (*NOT_FOR_OTHER_KINDS, orderings.MODEL_SETTING)


def given_settings(settings):
    """`settings` of an entry from outside cleared of what NOT_FOR_OTHER_KINDS lists."""
    return {
        **settings,
        "output_tensor": None,
        "partial_variables": None,
        "moving_averages": None,
        "probes": [],
    }


def object_checkpoint_settings(settings, variant):
    """The settings of a checkpoint restored into a model: the orderings of
    `orderings.GIVEN_OBJECT_CKPT` for its variant (`tf2`: a TF2 checkpoint; `tf1`: a TF1 one,
    read by name), each skipped where the entry gives no model. No graph file is read."""
    named = given_object_ckpt.variant_orderings(variant)
    model = settings["model"]
    return {
        **given_settings(settings),
        "format": "object_ckpt",
        "graph": "",
        "orderings": named if model else [],
        "skipped": [] if model else named,
    }


def savedmodel_settings(entry, common):
    """The settings of a SavedModel's folder: each way of loading one of the kind its files
    show (`orderings.GIVEN_SAVEDMODEL`). Raises ValueError for one without variables."""
    kind = checkpoint_files.savedmodel_kind(entry["prefix"])
    return {
        **given_settings(common),
        "name": entry["name"],
        "checkpoint": entry["name"],
        "prefix": entry["prefix"],
        "graph": str(Path(entry["prefix"]) / checkpoint_files.SAVED_MODEL_FILE),
        "run": None,
        "step": None,
        "format": "savedmodel",
        "orderings": given_savedmodel.kind_orderings(kind),
        "skipped": [],
    }


def lacking_settings(names, given):
    """The orderings of `names` that need a setting `given` (setting to its value) lacks."""
    return [
        name
        for name in names
        if any(given[setting] is None for setting in orderings.needed_settings(name))
    ]


def built_settings(config, name, common):
    """The built model's settings, one per format of `formats`: its checkpoint's named NAME,
    those of its SavedModel and frozen GraphDef NAME.FORMAT, each running its format's
    orderings (expected: what their steps leave)."""
    checkpoint = {
        "name": name,
        "checkpoint": name,
        "prefix": BUILT_PREFIX,
        "graph": f"{BUILT_PREFIX}.meta",
        "run": None,
        "step": None,
        "output_tensor": network.output_tensor(config["model"]["extra_layers"]),
        **common,
    }
    return [
        checkpoint
        if format_ == "ckpt"
        else {
            **checkpoint,
            "name": f"{name}.{format_}",
            "format": format_,
            "orderings": orderings.format_orderings(format_),
            "partial_variables": [],
            "skipped": [],
            "expected": {},
        }
        for format_ in config["formats"]
    ]


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
        elif "build" in entry and "graph" in entry:
            problems.append(
                f"checkpoints[{number}]: graph is for a prefix; build: true has its own"
            )
    return problems


def checkpoint_problems(config, number, entry, settings):
    """What the schema can't check of one entry: its files (from outside) or its names and
    index ranges against the model (built), and cross-references."""
    where = f"checkpoints[{number}]"

    def key(name):
        return f"{where}.{name}" if name in entry else name

    problems = [
        f"{where}.tags: only for a SavedModel's folder, which may hold several meta graphs"
        for _ in [1]
        if "tags" in entry and settings["format"] != "savedmodel"
    ] + [
        f"{key('expected')}.{ordering}: not an ordering checkpoint {settings['name']} runs "
        f"(orderings: {', '.join(settings['orderings'])})"
        for ordering in settings["expected"] or {}
        if ordering not in settings["orderings"]
    ]
    if settings["built"]:
        return problems + model_problems(config, settings, key)
    if settings["format"] == "savedmodel":
        return problems + [
            f"{where}.{name}: not for a SavedModel's folder, which is loaded every way that"
            " applies; give name, prefix, trust, expected and tags"
            for name in NOT_FOR_SAVEDMODELS
            if name in entry
        ]
    if settings["format"] == "object_ckpt":
        return problems + object_checkpoint_problems(where, entry, settings)
    given = {
        "partial_restore": settings["partial_variables"],
        "moving_averages": settings["moving_averages"],
    }
    for name in lacking_settings(settings["orderings"], given):
        setting = next(s for s in orderings.needed_settings(name) if given[s] is None)
        problems.append(
            f"{where}.orderings: {name} needs {where}.{orderings.SETTING_MEANINGS[setting]};"
            " give it, or leave the ordering out"
        )
    missing = checkpoint_files.missing_files(settings["prefix"], settings["graph"])
    if missing:
        problems.append(f"{where}: {settings['name']}: no such file(s): {', '.join(missing)}")
    return problems


def object_checkpoint_problems(where, entry, settings):
    """What is wrong with the entry of a checkpoint restored into a model: a setting it does
    not take; a model that is not on disk, or not trusted (it is code the run executes)."""
    problems = [
        f"{where}.{name}: not for a checkpoint restored into a model (a TF2 checkpoint, or one"
        " given a model), which is restored every way that applies; give name, prefix, model,"
        " trust and expected"
        for name in NOT_FOR_OTHER_KINDS
        if name in entry
    ]
    model = settings["model"]
    if model:
        path = model_file(model)
        if not Path(path).is_file():
            problems.append(f"{where}.model: {path}: no such file")
        elif not settings["trust"]:
            problems.append(
                f"{where}.model: {model} is code the run executes: give trust: true (for code"
                " you trust), or leave model out to list the checkpoint's objects alone"
            )
    missing = checkpoint_files.missing_files(settings["prefix"], None)
    if missing:
        problems.append(f"{where}: {settings['name']}: no such file(s): {', '.join(missing)}")
    return problems


def model_file(model):
    """The file of a `model` setting, FILE.py:FUNCTION."""
    return model.rpartition(":")[0]


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


def model_problems(config, settings, key):
    """What the schema can't check of the built checkpoint: names and index ranges against the
    model. `key` names the setting a problem is in (the entry's own or the top-level one)."""
    shapes = network.variable_shapes(config["model"]["extra_layers"])
    problems = []
    seen = set()
    for number, probe in enumerate(settings["probes"]):
        where = f"{key('probes')}[{number}]"
        try:
            variable = network.variable_name(probe["tensor"], shapes)
            slices.axis_indices(probe["slice"], shapes[variable])
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if (variable, probe["slice"]) in seen:
            problems.append(f"{where}: probes {variable} {probe['slice']} twice")
        seen.add((variable, probe["slice"]))
    for name in settings["partial_variables"]:
        if name not in shapes:
            problems.append(
                f"{key('partial_restore')}.variables: {name!r} is not a variable of the model; "
                f"it has: {', '.join(shapes)}"
            )
    for ordering, override in settings["expected"].items():
        if ordering in settings["orderings"] and isinstance(override, dict):
            problems.extend(
                f"{key('expected')}.{ordering}.{name}: not a variable of the model; it has: "
                f"{', '.join(shapes)}"
                for name in override
                if name not in shapes
            )
    return problems


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
