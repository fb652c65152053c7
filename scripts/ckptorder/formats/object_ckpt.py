"""The built model as TF2's object-based checkpoint (tf.train.Checkpoint, the seed's network as
a tf.Module of tf.Variables, no Keras), restored in graph mode (`InGraph`) or eagerly (`Eager`),
which `object_checkpoints` carries out; and what the restore's status object tells after each."""

from dataclasses import dataclass

from ckptorder.formats import Format, Ordering

# What the restore's status object tells, checked at the end of each ordering: what each of its
# assertions gives (passes, or raises), and whether TensorFlow warns, once the restore's
# objects are deleted, of saved values it left unrestored (status.expect_partial() silences it).
ASSERTIONS = ("assert_consumed", "assert_existing_objects_matched", "assert_nontrivial_match")
UNRESTORED_WARNING = "warns_unrestored"
STATUS_CHECKS = (*ASSERTIONS, UNRESTORED_WARNING)
PASSES = "passes"
WARNS, SILENT = "warns", "silent"
RAISES = "AssertionError"
# Every assertion passes, no warning.
ALL_PASS = (PASSES, PASSES, PASSES, SILENT)

# What a graph-mode load calls after the restore, each in a session: the model's initializers,
# or a method of the status object.
INITIALIZE = "global_variables_initializer"
RUN_RESTORE_OPS, INITIALIZE_OR_RESTORE, EXPECT_PARTIAL = (
    "run_restore_ops",
    "initialize_or_restore",
    "expect_partial",
)


@dataclass(frozen=True)
class InGraph:
    """Graph mode: the model built in a fresh graph, tf.train.Checkpoint's restore, then
    `calls` in a session; `extra_variable`: into the network with one variable more."""

    calls: tuple
    extra_variable: bool = False


@dataclass(frozen=True)
class Eager:
    """Eager mode: the restore before the model's variables are created (`restore_first`: each
    takes its saved value when created), or after (they are created initialised)."""

    restore_first: bool


VARIANTS = {
    "model": "tf.train.Checkpoint(model=network).save(): the network alone",
    "model_and_optimizer": "the same with an Adam optimizer's slots: a training checkpoint",
    "tf1_saver": "the built TF1 Saver checkpoint, which tf.train.Checkpoint reads by name",
    "no_checkpoint": "restore(None): what a CheckpointManager with no checkpoint yet restores",
}
# VARIANT.LOAD, each in a fresh graph and session (graph mode) or on a fresh network (eager);
# in eager mode a variable is initialised when it is created.
ORDERINGS = {
    "model.init_then_run_restore_ops": Ordering(
        ("initialize_all", "restore_matched"),
        "graph mode: global_variables_initializer(), then status.run_restore_ops(sess)",
        ALL_PASS,
        InGraph((INITIALIZE, RUN_RESTORE_OPS)),
    ),
    "model.run_restore_ops_then_init": Ordering(
        ("restore_matched", "initialize_all"),
        "graph mode: status.run_restore_ops(sess), then global_variables_initializer()",
        ALL_PASS,
        InGraph((RUN_RESTORE_OPS, INITIALIZE)),
    ),
    "model.initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "graph mode: status.initialize_or_restore(sess), TensorFlow's restore-or-initialise",
        ALL_PASS,
        InGraph((INITIALIZE_OR_RESTORE,)),
    ),
    "model.initialize_or_restore_extra_variable": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "the same into the network with one variable more (extra/bias), which it lacks",
        (RAISES, RAISES, PASSES, SILENT),
        InGraph((INITIALIZE_OR_RESTORE,), extra_variable=True),
    ),
    "model_and_optimizer.initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "a training checkpoint restored for inference: into the network without an optimizer",
        (RAISES, PASSES, PASSES, WARNS),
        InGraph((INITIALIZE_OR_RESTORE,)),
    ),
    "model_and_optimizer.expect_partial_initialize_or_restore": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "the same after status.expect_partial(), which silences TensorFlow's warning of the"
        " values left unrestored",
        (RAISES, PASSES, PASSES, SILENT),
        InGraph((EXPECT_PARTIAL, INITIALIZE_OR_RESTORE)),
    ),
    "no_checkpoint.initialize_or_restore": Ordering(
        ("initialize_all",),
        "restore(None).initialize_or_restore(sess): the initializers alone",
        (RAISES, RAISES, RAISES, SILENT),
        InGraph((INITIALIZE_OR_RESTORE,)),
    ),
    "tf1_saver.initialize_or_restore": Ordering(
        ("restore_by_name_in_graph",),
        "graph mode: the TF1 checkpoint through tf.train.Checkpoint (a name-based restore)",
        ALL_PASS,
        InGraph((INITIALIZE_OR_RESTORE,)),
    ),
    "model.eager_restore_then_create": Ordering(
        ("restore_matched", "initialize_uninitialized"),
        "eager: restore before the variables exist; each takes its saved value when created",
        ALL_PASS,
        Eager(restore_first=True),
    ),
    "model.eager_create_then_restore": Ordering(
        ("initialize_all", "restore_matched"),
        "eager: create the variables (initialised), then restore",
        ALL_PASS,
        Eager(restore_first=False),
    ),
    "tf1_saver.eager_restore_then_create": Ordering(
        ("restore_by_name_before_create", "initialize_all"),
        "eager: the TF1 checkpoint by name before the variables exist, then create them",
        (RAISES, RAISES, RAISES, SILENT),
        Eager(restore_first=True),
    ),
    "tf1_saver.eager_create_then_restore": Ordering(
        ("initialize_all", "restore_matched"),
        "eager: create the variables, then the TF1 checkpoint by name",
        ALL_PASS,
        Eager(restore_first=False),
    ),
}
FORMAT = Format(
    "The built model as TF2's tf.train.Checkpoint, per variant and ordering",
    VARIANTS,
    ORDERINGS,
    export="object_checkpoints:export",
    load="object_checkpoints:audit_object_checkpoints",
)
