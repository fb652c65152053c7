"""A checkpoint brought from outside, restored into the model its entry's function builds: a
TF2 object-based one (tf.train.Checkpoint's files) each way the built model's object_ckpt
format runs on a model object, or a TF1 Saver's by name, as TF2 code reads an old checkpoint
(`run`: object_ckpt's calls, and `EagerAttach`, which `given_object_checkpoints` carries out).
Each ordering's status checks are reported, not checked (no `status`): the user's model decides
what they give. Without the model none of them can run."""

from dataclasses import dataclass

from ckptorder.formats import Format, Ordering, object_ckpt


@dataclass(frozen=True)
class EagerAttach:
    """Eager: the restore into an empty tf.train.Checkpoint, then the model built and each of
    its named objects attached to it, as code does that restores before it builds."""


BUILT_LOADS = {
    "tf2.init_then_run_restore_ops": "model.init_then_run_restore_ops",
    "tf2.run_restore_ops_then_init": "model.run_restore_ops_then_init",
    "tf2.initialize_or_restore": "model.initialize_or_restore",
    "tf2.expect_partial_initialize_or_restore": (
        "model_and_optimizer.expect_partial_initialize_or_restore"
    ),
    "tf2.eager_create_then_restore": "model.eager_create_then_restore",
    "tf1.initialize_or_restore": "tf1_saver.initialize_or_restore",
    "tf1.eager_create_then_restore": "tf1_saver.eager_create_then_restore",
}
ORDERINGS = {
    name: object_ckpt.ORDERINGS[built]._replace(status=()) for name, built in BUILT_LOADS.items()
} | {
    # The user's model is built whole by its function: restoring before it exists is restoring
    # into an empty tf.train.Checkpoint, then giving it the objects the function built.
    "tf2.eager_restore_then_attach": Ordering(
        ("initialize_all", "restore_matched"),
        "eager: restore into an empty tf.train.Checkpoint, then build the model and attach"
        " it: the restore is deferred to the objects attached later",
        run=EagerAttach(),
    ),
    "tf1.eager_restore_then_attach": Ordering(
        ("restore_by_name_before_create", "initialize_all"),
        "eager: the TF1 checkpoint by name into an empty tf.train.Checkpoint, then build the"
        " model and attach it: a name-based restore does not wait for it",
        run=EagerAttach(),
    ),
}
FORMAT = Format(
    "Checkpoints from outside, restored into the model their entry builds",
    {
        "tf2": "tf.train.Checkpoint's files: an object graph, restored by matching object paths",
        "tf1": "a TF1 Saver checkpoint, which tf.train.Checkpoint reads by variable name",
    },
    ORDERINGS,
)


def variant_orderings(variant):
    """The orderings of a checkpoint of `variant` (tf2 or tf1)."""
    return [name for name in ORDERINGS if name.startswith(f"{variant}.")]
