# The Snakefile's helpers: the config, checked when the workflow loads; each step's code and
# its one-line error; a successful run's last words; and two fixes to Snakemake's own process.
import atexit
import os
import re
import sys
import time

sys.path.insert(0, f"{workflow.basedir}/scripts")

from ckptorder import (
    checkpoint_files,
    configuration,
    entries,
    network,
    orderings,
    sandbox,
    step_settings,
)
from ckptorder.atomic import write_if_changed
from ckptorder.imports import imported_modules, model_files
from ckptorder.snakemake_fixes import cancel_rescheduling_timers, handle_sigterm_in_a_thread

try:
    for line in configuration.notes(config):
        print(line, file=sys.stderr)
    config.update(configuration.checked(config))
except configuration.ConfigError as error:
    sys.exit(str(error))

CHECKPOINTS = {entry["name"]: entry for entry in config["checkpoints"]}
# Of them, the built model in its other formats (export, then load), by name.
LOADED = [name for name, e in CHECKPOINTS.items() if e["built"] and e["format"] != "ckpt"]
# The SavedModels' folders (load_savedmodel) and the TF2 checkpoints (load_object_checkpoint)
# from outside.
SAVEDMODELS = [n for n, e in CHECKPOINTS.items() if not e["built"] and e["format"] == "savedmodel"]
OBJECTS = [n for n, e in CHECKPOINTS.items() if not e["built"] and e["format"] == "object_ckpt"]
# The same by format.
EXPORTED = {CHECKPOINTS[name]["format"]: CHECKPOINTS[name] for name in LOADED}
# The training runs' folders among them with probes (a run's trajectory follows its probed
# values), by the name of their entry.
RUNS = list(dict.fromkeys(e["run"] for e in config["checkpoints"] if e["run"] and e["probes"]))
TRAJECTORY = "results/trajectory.csv"
BUILT_FILES = multiext(entries.BUILT_PREFIX, *checkpoint_files.SUFFIXES)
# The built network's output on a fixed batch right before saving.
INFERENCE_REFERENCE = "results/checkpoint/inference.npz"
VERIFIED = "results/verified.txt"
HTML_REPORT = "results/report.html"


def any_of(names):
    return "|".join(map(re.escape, names)) or "(?!)"


wildcard_constraints:
    source=any_of(CHECKPOINTS),
    checkpoint=any_of(name for name in CHECKPOINTS if name not in LOADED + SAVEDMODELS + OBJECTS),
    loaded=any_of(LOADED),
    savedmodel=any_of(SAVEDMODELS),
    objects=any_of(OBJECTS),
    format=any_of(EXPORTED),
    run=any_of(RUNS),


onstart:
    handle_sigterm_in_a_thread()


onsuccess:
    cancel_rescheduling_timers()
    words = closing_words()
    if words:
        # At exit, so that they come after Snakemake's own closing lines (log, elapsed time).
        atexit.register(print, words)


onerror:
    cancel_rescheduling_timers()
    failed = failed_steps_errors()
    if failed:
        # At exit, so that they come after Snakemake's own account of the failure (which the
        # profile hides, log included); each step's error stays a last line.
        logs = f"the failed steps' logs: {', '.join(failed)}"
        atexit.register(print, "\n".join([logs, *failed.values()]), file=sys.stderr)


def modified(path):
    return os.stat(path).st_mtime_ns if os.path.exists(path) else None


STARTED_NS = time.time_ns()


def failed_steps_errors():
    """The one-line error of each step that failed in this run, by its log: the last line of
    each log written since the run started that is a step's error."""
    errors = {}
    for folder, _, files in sorted(os.walk("results/logs")):
        for name in sorted(files):
            path = os.path.join(folder, name)
            if (modified(path) or 0) < STARTED_NS:
                continue
            with open(path, errors="replace") as log:
                lines = log.read().splitlines() or [""]
            if lines[-1].startswith("error: "):
                errors[path] = lines[-1]
    return errors


VERIFIED_BEFORE_THE_RUN = modified(VERIFIED)


def closing_words():
    """What a successful run ends with: the answer (verify's table, summary and where to look
    next) if this run verified the outcomes, and a warning if the HTML report is older than
    the results."""
    words = []
    if modified(VERIFIED) not in (None, VERIFIED_BEFORE_THE_RUN):
        with open(VERIFIED) as answer:
            words.append(f"\n{answer.read().rstrip()}")
        if not sandbox.landlock_abi():
            words.append(sandbox.UNCONFINED)
    html = modified(HTML_REPORT)
    if html and html < max(modified(path) or 0 for path in rules.all.input):
        words.append(f"{HTML_REPORT} is older than the results: snakemake --report {HTML_REPORT}")
    return "\n".join(words)


def code(step):
    """A step's script and the modules it imports (export and load some by name, from the
    formats' registry): inputs of its rule, so that editing any of them reruns the step."""
    script = f"scripts/{step}.py"
    by_name = orderings.implementation_modules(step)
    modules = imported_modules(os.path.join(workflow.basedir, script), by_name)
    return {
        "script": script,
        "modules": [os.path.relpath(module, workflow.basedir) for module in modules],
    }


def settings_file(step, name, settings):
    """A job's settings (`settings`, JSON text) in a file of its own, an input of the job:
    results/settings/STEP/NAME.json, written when the workflow loads only where they changed,
    so that a change reruns the job (Snakemake's reason names the file: one short line, where
    a param would print the whole text) and nothing else does."""
    return write_if_changed(f"results/settings/{step}/{name}.json", settings)


def logged(command):
    """`command` with all its output in the job's log and, when it fails, the log's last
    line (the step's one-line error) on the terminal."""
    return f"{command} > {{log}} 2>&1 || (tail -n 1 {{log}} >&2; exit 1)"


def reading_mb(wildcards, input):
    """The memory of a job that reads a checkpoint (sandbox.memory_mb): its inputs are mostly
    that."""
    return sandbox.memory_mb(input.size_mb)


def confined(command):
    """`command`, a job's that reads a file from outside, told how it is confined (the
    config's sandbox, a param) and the memory it may take (sandbox.py)."""
    return f"{command} --sandbox {{params.sandbox}} --memory-mb {{resources.mem_mb}}"


def checkpoint_files_of(wildcards):
    """A checkpoint's files: its index, data shards and graph (build's, for the built one)."""
    entry = CHECKPOINTS[wildcards.checkpoint]
    prefix = entry["prefix"]
    if entry["built"]:
        data = [prefix + checkpoint_files.DATA_SUFFIX]
    else:
        data = checkpoint_files.data_files(prefix)
    return {"index": f"{prefix}.index", "data": data, "graph": entry["graph"]}


def savedmodel_files(wildcards):
    """A SavedModel's files: its graph, and its variables' index and data shards."""
    entry = CHECKPOINTS[wildcards.savedmodel]
    variables = os.path.join(entry["prefix"], checkpoint_files.SAVED_MODEL_VARIABLES)
    index = f"{variables}.index"
    return {"graph": entry["graph"], "index": index, "data": checkpoint_files.data_files(variables)}


def object_checkpoint_files(wildcards):
    """A checkpoint's files, restored into a model: its index and data shards, and the model's
    file with the modules beside it that it imports, if given."""
    entry = CHECKPOINTS[wildcards.objects]
    files = {
        "index": f"{entry['prefix']}.index",
        "data": checkpoint_files.data_files(entry["prefix"]),
    }
    if entry["model"]:
        files["model"] = [str(f) for f in model_files(entries.model_file(entry["model"]))]
    return files


def checkpoint_inputs(wildcards):
    """What restore reads of a checkpoint: its files, and for the built one build's output on
    its batch. One from outside has its names checked first (the names checkpoint), whose
    output is not restore's input: a change of a probe reruns the check, not the restore."""
    if CHECKPOINTS[wildcards.checkpoint]["built"]:
        return checkpoint_files_of(wildcards) | {"inference": INFERENCE_REFERENCE}
    checkpoints.names.get(checkpoint=wildcards.checkpoint)
    return checkpoint_files_of(wildcards)


def checkpoint_threads(wildcards):
    """TensorFlow's threads in a checkpoint's restore job: training's for the built one, whose
    inference check compares with build's output (a convolution's bits depend on them)."""
    return config["train"]["threads"] if CHECKPOINTS[wildcards.checkpoint]["built"] else 1


def inference_option(wildcards, input):
    """The inference check's reference, for the built checkpoint alone."""
    return f"--inference {input.inference}" if "inference" in input.keys() else ""


def exported_folder(format_):
    return f"results/{format_}"


def prefix_of(index):
    """The prefix TensorFlow names a checkpoint by, from its index file."""
    return index.removesuffix(".index")


def names_file(name):
    return f"results/names/{name}.json"


def values_folder(name):
    return f"results/values/{name}"


def slices_file(name):
    return f"results/slices/{name}.csv"


def figure_file(name, figure):
    return f"results/figures/{name}/{figure}.png"
