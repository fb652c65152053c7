# Helpers of the Snakefile: config checks a schema can't express, and each step's settings.
import importlib.metadata
import json
import signal
import sys
import threading

import jsonschema
import yaml

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

# Where pandas is importable, Snakemake imports it (0.2 s, a fifth of a run with nothing to
# do) only to check whether a params value is a DataFrame. Ours are JSON strings, and the
# steps that use pandas import it in their own processes.
sys.modules.setdefault("pandas", None)

import network
import slices

CHECKPOINT = "results/checkpoint/model.ckpt"
CHECKPOINT_FILES = multiext(CHECKPOINT, ".index", ".data-00000-of-00001", ".meta")
# What the figures script imports: both figure rules rerun when one of these changes.
FIGURE_MODULES = [
    "scripts/orderings.py",
    "scripts/values.py",
    "scripts/cli.py",
    "scripts/atomic.py",
]


def checkpoint_prefix(files):
    """The prefix TensorFlow names a checkpoint by, from the checkpoint's files."""
    return files[0].removesuffix(".index")


def config_problems(config, schema_path):
    """One line per problem: the schema's findings first, then what it can't express."""
    problems = schema_problems(config, schema_path)
    return problems or model_problems(config)


# JSON schema's "integer" admits 2.0; a setting that counts must be written as a whole number.
_STRICT = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def schema_problems(config, schema_path):
    schema = yaml.safe_load(Path(schema_path).read_text())
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
        extra_layers=config["model"]["extra_layers"],
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
        probes=config["probes"],
        config=config,
        snakemake=snakemake.__version__,
    )


def values_file(state):
    return f"results/values/{state}.npz"


def every_state():
    return ["saved", "initial", *config["orderings"]]


def cancel_rescheduling_timers():
    """Let Snakemake exit as soon as the workflow ends. Each time its scheduler starts jobs it
    arms a one-second threading.Timer to re-check its job rate limit (--max-jobs-per-timespan
    takes whole seconds at least); the last one keeps a finished run alive for that second,
    with nothing left to schedule."""
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and getattr(function, "__module__", "").startswith(
            "snakemake.scheduling"
        ):
            thread.cancel()


def handle_sigterm_in_a_thread():
    """Keep SIGTERM from hanging Snakemake. Its handler takes the scheduler's lock, and a
    handler runs in the main thread: when the signal comes while the main thread holds that
    lock (choosing jobs, say), the handler waits for itself forever. Run in a thread of its
    own, the handler waits until the main thread lets the lock go."""
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        signal.signal(
            signal.SIGTERM,
            lambda *args: threading.Thread(target=handler, args=args, daemon=True).start(),
        )
