"""A SavedModel brought from outside: the kind its files show (what wrote it) is its variant,
and each way of loading any SavedModel an ordering of it (`run`: the built SavedModel's calls,
and `LoadV2Eager`, which `given_savedmodels` carries out). Its init op is its own: which
variables it initialises is read off its graph (the `init_op` step)."""

from dataclasses import dataclass

from ckptorder.formats import Format, Ordering, savedmodel, with_variant_steps


@dataclass(frozen=True)
class LoadV2Eager:
    """tf.saved_model.load, eager: its restore, then its init op."""

    runs_init_op = True


# The built SavedModel's loads, its own init op (the `init_op` step) in place of a variant's.
LOADS = {
    name: with_variant_steps(savedmodel.LOADS[name], ("init_op",))
    for name in ("loader_load", "loader_load_then_init", "load_v2_restore")
} | {
    "load_v2_global_init": Ordering(
        ("run_lifted_initializers",),
        "tf.saved_model.load in graph mode, then global_variables_initializer() alone: a"
        " resource variable's initializer is the SavedModel's restore",
        run=savedmodel.LoadV2(("global",)),
    ),
    "load_v2_eager": Ordering(
        ("restore_all", "init_op"),
        "tf.saved_model.load, eager: its restore, then its init op",
        run=LoadV2Eager(),
    ),
}
# In graph mode, tf.saved_model.load makes a TF2 SavedModel's restore its variables'
# initializer: it asks for no saved_model_initializers. (A TF2 SavedModel's variables have no
# initializers of their own: initialize_all writes none of them.)
TF2_GRAPH_LOADS = {
    "load_v2_restore": LOADS["load_v2_restore"]._replace(
        steps=(),
        description="tf.saved_model.load in graph mode, then the saved_model_initializers it"
        " asks for: none",
    ),
}
VARIANTS = {
    "tf1": "TF1's saved_model.Builder: variables with initializers, restored by name",
    "tf2": "tf.saved_model.save or Keras's model.export(): an object graph, no initializers",
}
FORMAT = Format(
    "SavedModels from outside, per kind and way of loading",
    VARIANTS,
    {
        f"{kind}.{load}": how
        for kind, loads in {"tf1": LOADS, "tf2": LOADS | TF2_GRAPH_LOADS}.items()
        for load, how in loads.items()
    },
)


def kind_orderings(kind):
    """The orderings of a SavedModel of `kind` (tf1 or tf2)."""
    return [name for name in FORMAT.orderings if name.startswith(f"{kind}.")]
