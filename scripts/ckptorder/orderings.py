"""The orderings of "initialise" and "restore" this pipeline runs, and what each should give.

Each ordering is a sequence of steps. What a variable ends up holding is decided by the last
step that writes it, so the expected outcome of every variable follows from the steps:
a restoring step leaves it `restored`, an initialising step `reinitialized` (`changed` where it
initialises again in one session a variable whose initializer draws random numbers: the random
op draws anew), a step that raises `failed`, and a variable no step writes stays `uninitialized`.
The seed's model is also written as a SavedModel and as a frozen GraphDef: each way of writing
one (a variant) and of loading it is an ordering of the same steps.
Pure Python: the Snakefile, the report and the figures use it without importing TensorFlow.
"""

from typing import NamedTuple

from ckptorder.formats import (
    Ordering,
    ckpt,
    frozen_pb,
    given_object_ckpt,
    given_savedmodel,
    object_ckpt,
    savedmodel,
)

# What a variable can hold after an ordering (README, "Reading the results"): the saved value,
# the initial one, neither, nothing (reading it raised), or nothing because the ordering raised.
OUTCOMES = ("restored", "reinitialized", "changed", "uninitialized", "failed")
RESTORED, REINITIALIZED, CHANGED, UNINITIALIZED, FAILED = OUTCOMES
# What a failure's error starts with where nothing ran: the guard refused what it runs, or no
# batch could be made for a signature. Such an inference row is reported, not held against the
# load (`tables.inference_failures`).
GUARD_REFUSED, NO_BATCH = NOT_CHECKED = ("refused by the guard: ", "no batch: ")


def guard_refusal(found):
    """The words of the guard's first objection of `found` (its lines), or None for none."""
    return f"{GUARD_REFUSED}{found[0]}" if found else None


# step: (what it writes, the outcome it leaves)
STEPS = {
    "initialize_all": ("all", REINITIALIZED),
    "restore_all": ("all", RESTORED),
    "restore_partial": ("partial", RESTORED),
    "initialize_uninitialized": ("unwritten", REINITIALIZED),
    "initialize_from_checkpoint": ("all", RESTORED),
    # init_from_checkpoint with the map compatibility.py suggests: the mapped variables read the
    # checkpoint, the others run their own initializers.
    "initialize_from_suggested_map": ("mapped", RESTORED),
    # main_op_with_restore's restore op: the Saver's, reading its default file ("model" in the
    # working directory), not the SavedModel's variables; the load raises NotFoundError.
    "restore_saver_default_file": ("all", FAILED),
    # tf.train.Checkpoint's restore: the variables the checkpoint holds (`saved`), those the
    # model has and it lacks stay as they were.
    "restore_matched": ("saved", RESTORED),
    # A TF1 checkpoint read through tf.train.Checkpoint in graph mode: the name-based restore
    # also restores the Checkpoint's own save_counter, which a TF1 checkpoint lacks
    # (NotFoundError).
    "restore_by_name_in_graph": ("all", FAILED),
    # The same in eager mode before the variables exist: a name-based restore reaches only
    # the variables that exist when it runs; it does not wait for the others.
    "restore_by_name_before_create": ("none", RESTORED),
    # Saver(ExponentialMovingAverage(name=...).variables_to_restore()), as evaluation code
    # restores a model trained with moving averages: each averaged variable takes its shadow's
    # saved value, the others their own; the shadows themselves are not restored. It raises
    # NotFoundError where the checkpoint lacks a shadow it looks for.
    "restore_moving_averages": ("averaged", RESTORED),
    # A SavedModel's own init op, in one brought from outside: the variables whose initializers
    # it runs (load_savedmodel's `init_op` fact). The built model's SavedModel's init op runs
    # its variant's steps instead (`formats.VARIANT_STEPS`).
    "init_op": ("init_op", REINITIALIZED),
    # global_variables_initializer() after tf.saved_model.load in graph mode: where the
    # SavedModel has a resource variable, TensorFlow lifts it out of the loaded function with
    # the SavedModel's whole restore as its initializer, which restores every variable (the
    # `lifted` fact); a TF1 SavedModel of reference variables alone has none lifted.
    "run_lifted_initializers": ("lifted", RESTORED),
}
# The setting of a checkpoint's entry a step needs: an ordering that runs it is skipped for a
# checkpoint whose entry does not give it (and what the setting is, for the message saying so).
STEP_SETTINGS = {
    "restore_partial": "partial_restore",
    "restore_moving_averages": "moving_averages",
}
# What the orderings of a checkpoint restored into a model need: that model.
MODEL_SETTING = "model"
SETTING_MEANINGS = {
    "partial_restore": "partial_restore.variables (the variables that ordering's Saver restores)",
    "moving_averages": "moving_averages (the name of the ExponentialMovingAverage whose shadow"
    " values that ordering restores)",
    MODEL_SETTING: "model (FILE.py:FUNCTION, the function that builds what to restore into; it runs"
    " only with trust: true)",
}


class MovingAverages(NamedTuple):
    """What restore_moving_averages reads: each variable it restores from its shadow's key
    (variable to key) and the keys of them the checkpoint lacks."""

    restored_from: dict
    missing: list

    @property
    def shadows(self):
        return set(self.restored_from.values())


# The formats the built model is written in: its checkpoint, a TF1 SavedModel, a frozen GraphDef
# and TF2's object-based checkpoint; and those a user brings.
FORMATS = {
    "ckpt": ckpt.FORMAT,
    "savedmodel": savedmodel.FORMAT,
    "frozen_pb": frozen_pb.FORMAT,
    "object_ckpt": object_ckpt.FORMAT,
}
GIVEN_SAVEDMODEL, GIVEN_OBJECT_CKPT = given_savedmodel.FORMAT, given_object_ckpt.FORMAT
# Those export writes from the built checkpoint, and load reads.
EXPORTED_FORMATS = tuple(name for name, format_ in FORMATS.items() if format_.export)
# The `initial` state's steps: the initializers alone, in a fresh session.
INITIAL = Ordering(("initialize_all",), "the graph's initializers in a fresh session")


def merged_orderings(formats):
    """Every ordering of `formats`, by name. Raises ValueError where two of them give one name
    two meanings: a state is named by its ordering alone."""
    merged = {}
    for format_ in formats:
        for name, given in format_.orderings.items():
            if merged.setdefault(name, given) != given:
                raise ValueError(f"ordering {name!r}: two formats define it, differently")
    return merged


def every_ordering():
    """Every ordering of every format, by name, as the formats' modules hold them now."""
    return merged_orderings((*FORMATS.values(), GIVEN_SAVEDMODEL, GIVEN_OBJECT_CKPT))


every_ordering()  # a name given two meanings fails the import


def implementation_modules(step):
    """The ckptorder modules the step ("export" or "load") imports by name from FORMATS'
    references: the Snakefile declares them as its inputs, as it does the ones it imports."""
    references = [getattr(f, step) for f in FORMATS.values()] if step in ("export", "load") else []
    return sorted({reference.partition(":")[0] for reference in references if reference})


def exported_format(name):
    """The Format `name` names, one of EXPORTED_FORMATS. Raises ValueError, listing them."""
    if name not in EXPORTED_FORMATS:
        raise ValueError(f"format {name!r}; allowed: {', '.join(EXPORTED_FORMATS)}")
    return FORMATS[name]


def format_orderings(format_):
    """A format's orderings, by name: VARIANT.LOAD but for the checkpoint's own."""
    return list(FORMATS[format_].orderings)


def variant_and_load(state):
    """(format, variant, load) of a format's ordering VARIANT.LOAD, a SavedModel's from outside
    too."""
    variant, load = state.split(".")
    if state in GIVEN_SAVEDMODEL.orderings:
        return "savedmodel", variant, load
    if state in GIVEN_OBJECT_CKPT.orderings:
        return "object_ckpt", variant, load
    format_ = next(name for name, f in FORMATS.items() if variant in f.variants)
    return format_, variant, load


def ordering(state):
    """The Ordering a state names: `initial` or any format's ordering."""
    return INITIAL if state == "initial" else every_ordering()[state]


def steps(state):
    """The steps of an ordering, or of the `initial` state."""
    return ordering(state).steps


def runs_init_op(state):
    """Whether a SavedModel from outside's ordering runs its own init op (the `init_op` step)."""
    return "init_op" in steps(state)


def needed_settings(name):
    """The settings the ordering `name` needs: those of STEP_SETTINGS its steps need, and for
    a checkpoint's restored into a model that model."""
    needed = [STEP_SETTINGS[step] for step in steps(name) if step in STEP_SETTINGS]
    return needed + ([MODEL_SETTING] if name in GIVEN_OBJECT_CKPT.orderings else [])


def ordering_of(*wanted):
    """The ordering that runs exactly the steps `wanted`: tests and the benchmark name
    a checkpoint's orderings by what they do, so that `formats.ckpt` stays the one place their
    names are written."""
    return next(name for name in ckpt.ORDERINGS if steps(name) == wanted)


def expected_outcomes(
    ordering,
    variables,
    partial_variables,
    mapped=(),
    random=(),
    saved=None,
    averages=None,
    copies=None,
    init_op=(),
    unlisted=(),
    lifted=False,
):
    """Variable name to the outcome the ordering's last write to it leaves; `mapped`: the
    variables the suggested map restores; `random`: those whose initializer draws random
    numbers; `saved`: those the checkpoint holds (None: all); `averages`: the `MovingAverages`
    of the graph and checkpoint; `copies`: variable to the variables its initializer reads,
    each with whether its saved value is bit for bit the variable's (`copied`); `init_op`:
    those a SavedModel's init op initialises; `unlisted`: those no initializer writes (a TF2
    SavedModel's); `lifted`: whether a SavedModel has a resource variable
    (`run_lifted_initializers`)."""
    copies = copies or {}
    averages = averages or MovingAverages({}, [])
    sources = [source for name in variables for source in copies.get(name, ())]
    tracked = list(dict.fromkeys([*variables, *sources]))
    outcome, initialized = {}, set()
    for step in steps(ordering):
        writes, leaves = STEPS[step]
        if leaves == FAILED or (writes == "averaged" and averages.missing):
            return dict.fromkeys(variables, FAILED)
        written = {}
        for name in tracked:
            if writes == "mapped":
                written[name] = leaves if name in mapped else REINITIALIZED
            elif (
                writes == "all"
                or (writes == "saved" and (saved is None or name in saved))
                or (writes == "partial" and name in partial_variables)
                or (writes == "unwritten" and name not in outcome)
                or (writes == "averaged" and name not in averages.shadows)
                or (writes == "init_op" and name in init_op)
                or (writes == "lifted" and lifted)
            ) and not (leaves == REINITIALIZED and name in unlisted):
                written[name] = leaves
        before = dict(outcome)
        for name, leaves in written.items():
            if leaves == REINITIALIZED:
                if name in initialized and name in random:
                    leaves = CHANGED
                initialized.add(name)
                if copies.get(name):
                    leaves = copied(copies[name], before, written)
            outcome[name] = leaves
    return {name: outcome.get(name, UNINITIALIZED) for name in variables}


# An expected outcome that may be either of two: what TensorFlow does not fix.
EITHER = " or "


def copied(sources, before, written):
    """What a variable whose initializer copies `sources` holds once it ran (an
    ExponentialMovingAverage shadow's initializer reads the variable it averages, or that
    one's initial value while it is uninitialised): `reinitialized` from a source holding its
    initial values or none, `changed` from one holding others, `restored` from one restored
    whose saved value is the copy's own (`sources`: source to whether it is). A source the
    same step writes is read as it was or as it becomes, TensorFlow does not fix which: then
    either outcome."""
    possible = set()
    for source, same_saved in sources.items():
        for value in (before.get(source), *([written[source]] if source in written else [])):
            if value in (None, REINITIALIZED):
                possible.add(REINITIALIZED)
            else:
                possible.add(RESTORED if value == RESTORED and same_saved else CHANGED)
    return EITHER.join(sorted(possible))


def allowed_outcomes(expected):
    """The outcomes an expected one admits: itself, or each of an EITHER."""
    return tuple(expected.split(EITHER))


def observed_outcome(equal_to_saved, equal_to_initial):
    """The outcome values show: bit for bit the saved ones, else the initial ones, else neither."""
    if equal_to_saved:
        return RESTORED
    return REINITIALIZED if equal_to_initial else CHANGED


# The states every ordering is compared with: the values the checkpoint's files hold, and those
# its graph's initializers give in a fresh session.
REFERENCES = ("saved", "initial")


def states(ordering_names):
    """Every state a run compares: the references, then the orderings."""
    return [*REFERENCES, *ordering_names]
