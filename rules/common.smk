# The Snakefile's helpers: the config, checked when the workflow loads; each step's code and
# its one-line error; and two fixes to Snakemake's own process.
import os
import sys

sys.path.insert(0, f"{workflow.basedir}/scripts")

from ckptorder import configuration, orderings
from ckptorder.imports import imported_modules
from ckptorder.snakemake_fixes import cancel_rescheduling_timers, handle_sigterm_in_a_thread

try:
    config.update(configuration.checked(config))
except configuration.ConfigError as error:
    sys.exit(str(error))

CHECKPOINT = "results/checkpoint/model.ckpt"
CHECKPOINT_FILES = multiext(CHECKPOINT, ".index", ".data-00000-of-00001", ".meta")
STATES = orderings.states(config["orderings"])


wildcard_constraints:
    ordering="|".join(config["orderings"]),
    state="|".join(STATES),


onstart:
    handle_sigterm_in_a_thread()


onsuccess:
    cancel_rescheduling_timers()


onerror:
    cancel_rescheduling_timers()


def code(step):
    """A step's script and the modules it imports: inputs of its rule, so that editing any
    of them reruns the step."""
    script = f"scripts/{step}.py"
    modules = imported_modules(os.path.join(workflow.basedir, script))
    return {
        "script": script,
        "modules": [os.path.relpath(module, workflow.basedir) for module in modules],
    }


def logged(command):
    """`command` with all its output in the job's log and, when it fails, the log's last
    line (the step's one-line error) on the terminal."""
    return f"{command} > {{log}} 2>&1 || (tail -n 1 {{log}} >&2; exit 1)"


def checkpoint_prefix(files):
    """The prefix TensorFlow names a checkpoint by, from the checkpoint's files."""
    return files[0].removesuffix(".index")


def values_file(state):
    return f"results/values/{state}.npz"


def slices_file(state):
    return f"results/slices/{state}.csv"
