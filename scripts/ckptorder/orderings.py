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
    # it runs (restore's `init_op` fact); in the built model's each export variant's steps
    # stand in its place.
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


class Ordering(NamedTuple):
    """One ordering: its steps (keys of STEPS; in a load of an exported format "init_op" stands
    for the variant's steps), what it does and, for an object_ckpt ordering, what each of
    STATUS_CHECKS gives in TensorFlow 2.21 (docs/tf2.md; verify flags a run that differs)."""

    steps: tuple
    description: str
    status: tuple = ()


class MovingAverages(NamedTuple):
    """What restore_moving_averages reads: each variable it restores from its shadow's key
    (variable to key) and the keys of them the checkpoint lacks."""

    restored_from: dict
    missing: list

    @property
    def shadows(self):
        return set(self.restored_from.values())


class Format(NamedTuple):
    """One format the built model is written in: verify's title of its table, its variants
    (name: the Ordering of the session it was written from, or what it is), its orderings
    (name: Ordering) and the functions that carry it out ("module:function" of ckptorder:
    export's writer and load's audit; none for the checkpoint, which restore audits)."""

    title: str
    variants: dict
    orderings: dict
    export: str = ""
    load: str = ""


ORDERINGS = {
    "init_then_restore": Ordering(
        ("initialize_all", "restore_all"),
        "the seed's experiment 1: run the initializers, then Saver.restore",
    ),
    "restore_then_init": Ordering(
        ("restore_all", "initialize_all"),
        "the seed's experiment 2: Saver.restore, then the initializers wipe what it restored",
    ),
    "restore_only": Ordering(
        ("restore_all",),
        "Saver.restore alone: it sets every saved variable, no initializer is needed",
    ),
    "init_only": Ordering(
        ("initialize_all",),
        "the control that never reads the checkpoint: the initializers alone",
    ),
    "restore_then_init_uninitialized": Ordering(
        ("restore_all", "initialize_uninitialized"),
        "Saver.restore, then initialise only what report_uninitialized_variables lists",
    ),
    "partial_restore": Ordering(
        ("restore_partial", "initialize_uninitialized"),
        "a Saver with a var_list restores some variables, the initializers set the rest",
    ),
    "init_from_checkpoint": Ordering(
        ("initialize_from_checkpoint",),
        "init_from_checkpoint turns the initializers into reads of the checkpoint, then they run",
    ),
    "restore_with_suggested_map": Ordering(
        ("initialize_from_suggested_map",),
        "init_from_checkpoint with the names matched or suggested in compatibility.csv",
    ),
    "restore_moving_averages": Ordering(
        ("restore_moving_averages",),
        "Saver(ema.variables_to_restore()) restores each variable's moving average into it",
    ),
}


# The orderings of a checkpoint without moving averages, such as the built model's: all but
# those that restore them.
BUILT_ORDERINGS = [
    name
    for name, o in ORDERINGS.items()
    if not any(STEP_SETTINGS.get(step) == "moving_averages" for step in o.steps)
]


def exported_orderings(variants, loads):
    """VARIANT.LOAD for every variant and load of an exported format, the load's "init_op"
    replaced by the variant's steps."""
    return {
        f"{variant}.{load}": Ordering(
            tuple(
                step
                for written in how.steps
                for step in (init.steps if written == "init_op" else (written,))
            ),
            f"{init.description}; {how.description}",
        )
        for variant, init in variants.items()
        for load, how in loads.items()
    }


SAVEDMODEL_VARIANTS = {
    "no_init_op": Ordering((), "saved_model.Builder without an init op"),
    "main_op": Ordering(
        ("initialize_all",),
        "main_op=main_op(): the loader runs the initializers after its restore",
    ),
    "main_op_with_restore": Ordering(
        ("initialize_all", "restore_saver_default_file"),
        "main_op_with_restore(the Saver's restore op): the initializers, then that restore",
    ),
}
SAVEDMODEL_LOADS = {
    "loader_load": Ordering(
        ("restore_all", "init_op"),
        "tf.compat.v1.saved_model.loader.load: the variables' restore, then the init op",
    ),
    "loader_load_then_init": Ordering(
        ("restore_all", "init_op", "initialize_all"),
        "loader.load, then the user's global_variables_initializer()",
    ),
    "load_v2_restore": Ordering(
        ("restore_all",),
        "tf.saved_model.load in graph mode, then the saved_model_initializers it asks for",
    ),
    "load_v2_restore_then_tables": Ordering(
        ("restore_all", "init_op"),
        "the same, then tables_initializer(), which runs the SavedModel's init op",
    ),
    "load_v2_global_init": Ordering(
        (),
        "tf.saved_model.load in graph mode, then global_variables_initializer() alone",
    ),
}
FROZEN_VARIANTS = {
    "after_restore": Ordering(
        ("restore_all",),
        "variables folded into constants in a session that restored the checkpoint",
    ),
    "after_restore_then_init": Ordering(
        ("restore_all", "initialize_all"),
        "folded after restore, then the initializers (freeze_graph's --initializer_nodes)",
    ),
}
FROZEN_LOADS = {
    "import_graph_def": Ordering(
        ("init_op",),
        "import_graph_def: the constants hold what the frozen session held",
    ),
}


# What the restore's status object tells, checked at the end of each object_ckpt ordering: what
# each of its assertions gives (passes, or raises), and whether TensorFlow warns, once the
# restore's objects are deleted, of saved values it left unrestored (status.expect_partial()
# silences that).
ASSERTIONS = ("assert_consumed", "assert_existing_objects_matched", "assert_nontrivial_match")
UNRESTORED_WARNING = "warns_unrestored"
STATUS_CHECKS = (*ASSERTIONS, UNRESTORED_WARNING)
PASSES = "passes"
WARNS, SILENT = "warns", "silent"
_RAISES = "AssertionError"
# Every assertion passes, no warning.
_ALL_PASS = (PASSES, PASSES, PASSES, SILENT)

# object_ckpt's variants: what tf.train.Checkpoint restores from (the seed's network as a
# tf.Module of tf.Variables, no Keras).
OBJECT_VARIANTS = {
    "model": "tf.train.Checkpoint(model=network).save(): the network alone",
    "model_and_optimizer": "the same with an Adam optimizer's slots: a training checkpoint",
    "tf1_saver": "the built TF1 Saver checkpoint, which tf.train.Checkpoint reads by name",
    "no_checkpoint": "restore(None): what a CheckpointManager with no checkpoint yet restores",
}
# object_ckpt's orderings, VARIANT.LOAD. Each runs in a fresh graph and session (graph mode) or
# on a fresh network object (eager); in eager mode a variable is initialised when it is created.
OBJECT_ORDERINGS = {
    "model.init_then_run_restore_ops": Ordering(
        ("initialize_all", "restore_matched"),
        "graph mode: global_variables_initializer(), then status.run_restore_ops(sess)",
        _ALL_PASS,
    ),
    "model.run_restore_ops_then_init": Ordering(
        ("restore_matched", "initialize_all"),
        "graph mode: status.run_restore_ops(sess), then global_variables_initializer()",
        _ALL_PASS,
    ),
    "model.initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "graph mode: status.initialize_or_restore(sess), TensorFlow's restore-or-initialise",
        _ALL_PASS,
    ),
    "model.initialize_or_restore_extra_variable": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "the same into the network with one variable more (extra/bias), which it lacks",
        (_RAISES, _RAISES, PASSES, SILENT),
    ),
    "model_and_optimizer.initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "a training checkpoint restored for inference: into the network without an optimizer",
        (_RAISES, PASSES, PASSES, WARNS),
    ),
    "model_and_optimizer.expect_partial_initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "the same after status.expect_partial(), which silences TensorFlow's warning of the"
        " values left unrestored",
        (_RAISES, PASSES, PASSES, SILENT),
    ),
    "no_checkpoint.initialize_or_restore": Ordering(
        ("initialize_all",),
        "restore(None).initialize_or_restore(sess): the initializers alone",
        (_RAISES, _RAISES, _RAISES, SILENT),
    ),
    "tf1_saver.initialize_or_restore": Ordering(
        ("restore_by_name_in_graph",),
        "graph mode: the TF1 checkpoint through tf.train.Checkpoint (a name-based restore)",
        _ALL_PASS,
    ),
    "model.eager_restore_then_create": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "eager: restore before the variables exist; each takes its saved value when created",
        _ALL_PASS,
    ),
    "model.eager_create_then_restore": Ordering(
        ("initialize_all", "restore_matched"),
        "eager: create the variables (initialised), then restore",
        _ALL_PASS,
    ),
    "tf1_saver.eager_restore_then_create": Ordering(
        ("restore_by_name_before_create", "initialize_all"),
        "eager: the TF1 checkpoint by name before the variables exist, then create them",
        (_RAISES, _RAISES, _RAISES, SILENT),
    ),
    "tf1_saver.eager_create_then_restore": Ordering(
        ("initialize_all", "restore_matched"),
        "eager: create the variables, then the TF1 checkpoint by name",
        _ALL_PASS,
    ),
}

# The formats the built model is written in: its checkpoint (the orderings above), a TF1
# SavedModel, a frozen GraphDef and TF2's object-based checkpoint (tf.train.Checkpoint).
FORMATS = {
    "ckpt": Format("Outcomes per checkpoint, ordering and probe", {}, ORDERINGS),
    "savedmodel": Format(
        "The built model as a SavedModel, per export variant and way of loading it",
        SAVEDMODEL_VARIANTS,
        exported_orderings(SAVEDMODEL_VARIANTS, SAVEDMODEL_LOADS),
        export="exporting:export",
        load="loading:audit_exported",
    ),
    "frozen_pb": Format(
        "The built model as a frozen GraphDef, per way of freezing it",
        FROZEN_VARIANTS,
        exported_orderings(FROZEN_VARIANTS, FROZEN_LOADS),
        export="exporting:export",
        load="loading:audit_exported",
    ),
    "object_ckpt": Format(
        "The built model as TF2's tf.train.Checkpoint, per variant and ordering",
        OBJECT_VARIANTS,
        OBJECT_ORDERINGS,
        export="object_checkpoints:export",
        load="object_checkpoints:audit_object_checkpoints",
    ),
}
# A SavedModel brought from outside: the kind its files show (what wrote it) is its variant,
# and each way of loading any SavedModel an ordering of it. Its init op is its own: which
# variables it initialises is read off its graph (the `init_op` step).
_GIVEN_SAVEDMODEL_LOADS = {
    "loader_load": SAVEDMODEL_LOADS["loader_load"],
    "loader_load_then_init": SAVEDMODEL_LOADS["loader_load_then_init"],
    "load_v2_restore": SAVEDMODEL_LOADS["load_v2_restore"],
    "load_v2_global_init": Ordering(
        ("run_lifted_initializers",),
        "tf.saved_model.load in graph mode, then global_variables_initializer() alone: a"
        " resource variable's initializer is the SavedModel's restore",
    ),
    "load_v2_eager": Ordering(
        ("restore_all", "init_op"),
        "tf.saved_model.load, eager: its restore, then its init op",
    ),
}
# In graph mode, tf.saved_model.load makes a TF2 SavedModel's restore its variables'
# initializer: it asks for no saved_model_initializers. (A TF2 SavedModel's variables have no
# initializers of their own: initialize_all writes none of them.)
_TF2_GRAPH_LOADS = {
    "load_v2_restore": Ordering(
        (),
        "tf.saved_model.load in graph mode, then the saved_model_initializers it asks for: none",
    ),
}
GIVEN_SAVEDMODEL = Format(
    "SavedModels from outside, per kind and way of loading",
    {
        "tf1": "TF1's saved_model.Builder: variables with initializers, restored by name",
        "tf2": "tf.saved_model.save or Keras's model.export(): an object graph, no initializers",
    },
    {
        f"{kind}.{load}": how
        for kind, loads in {
            "tf1": _GIVEN_SAVEDMODEL_LOADS,
            "tf2": _GIVEN_SAVEDMODEL_LOADS | _TF2_GRAPH_LOADS,
        }.items()
        for load, how in loads.items()
    },
)
# A checkpoint brought from outside restored into the model its entry's function builds: a TF2
# object-based one (tf.train.Checkpoint's files) each way the built model's object_ckpt format
# runs on a model object, or a TF1 Saver's by name, as TF2 code reads an old checkpoint. Each
# ordering's status checks are reported, not checked (no `status`): the user's model decides
# what they give. Without the model none of them can run.
GIVEN_OBJECT_CKPT = Format(
    "Checkpoints from outside, restored into the model their entry builds",
    {
        "tf2": "tf.train.Checkpoint's files: an object graph, restored by matching object paths",
        "tf1": "a TF1 Saver checkpoint, which tf.train.Checkpoint reads by variable name",
    },
    {
        name: OBJECT_ORDERINGS[built]._replace(status=())
        for name, built in {
            "tf2.init_then_run_restore_ops": "model.init_then_run_restore_ops",
            "tf2.run_restore_ops_then_init": "model.run_restore_ops_then_init",
            "tf2.initialize_or_restore": "model.initialize_or_restore",
            "tf2.expect_partial_initialize_or_restore": (
                "model_and_optimizer.expect_partial_initialize_or_restore"
            ),
            "tf2.eager_create_then_restore": "model.eager_create_then_restore",
            "tf1.initialize_or_restore": "tf1_saver.initialize_or_restore",
            "tf1.eager_create_then_restore": "tf1_saver.eager_create_then_restore",
        }.items()
    }
    # The user's model is built whole by its function: restoring before it exists is restoring
    # into an empty tf.train.Checkpoint, then giving it the objects the function built.
    | {
        "tf2.eager_restore_then_attach": Ordering(
            ("initialize_all", "restore_matched"),
            "eager: restore into an empty tf.train.Checkpoint, then build the model and attach"
            " it: the restore is deferred to the objects attached later",
        ),
        "tf1.eager_restore_then_attach": Ordering(
            ("restore_by_name_before_create", "initialize_all"),
            "eager: the TF1 checkpoint by name into an empty tf.train.Checkpoint, then build the"
            " model and attach it: a name-based restore does not wait for it",
        ),
    },
)


def given_object_orderings(variant):
    """The orderings of GIVEN_OBJECT_CKPT for a checkpoint of `variant` (tf2 or tf1)."""
    return [name for name in GIVEN_OBJECT_CKPT.orderings if name.startswith(f"{variant}.")]


# Those export writes from the built checkpoint, and load reads.
EXPORTED_FORMATS = tuple(name for name, format_ in FORMATS.items() if format_.export)


# Every ordering of every format, by name; the `initial` state's steps are the initializers
# alone, in a fresh session.
def merged_orderings(formats):
    """Every ordering of `formats`, by name. Raises ValueError where two of them give one name
    two meanings: a state is named by its ordering alone."""
    merged = {}
    for format_ in formats:
        for name, given in format_.orderings.items():
            if merged.setdefault(name, given) != given:
                raise ValueError(f"ordering {name!r}: two formats define it, differently")
    return merged


_EVERY = merged_orderings((*FORMATS.values(), GIVEN_SAVEDMODEL, GIVEN_OBJECT_CKPT))
INITIAL = Ordering(("initialize_all",), "the graph's initializers in a fresh session")


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
    return INITIAL if state == "initial" else _EVERY[state]


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
    orderings by what they do, so that this module stays the one place their names are written."""
    return next(name for name in ORDERINGS if steps(name) == wanted)


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
