"""The built model written as a TF1 SavedModel, one folder per variant (its init op), and loaded
each way TensorFlow offers (`run`: `LoaderLoad` or `LoadV2`, which `loading` carries out)."""

from dataclasses import dataclass

from ckptorder.formats import VARIANT_STEPS, Format, Ordering, exported_orderings


@dataclass(frozen=True)
class LoaderLoad:
    """tf.compat.v1.saved_model.loader.load (the variables' restore, then the init op), then
    global_variables_initializer() where `then_initialize`."""

    then_initialize: bool = False
    runs_init_op = True


@dataclass(frozen=True)
class LoadV2:
    """tf.saved_model.load in graph mode, then the ops of `run` in order: `restore`, the
    saved_model_initializers it asks for; `tables`, tables_initializer(), which runs the init
    op; `global`, global_variables_initializer()."""

    run: tuple

    @property
    def runs_init_op(self):
        return "tables" in self.run


# Each variant's steps are its init op's, which the loader runs after its restore: export
# builds `main_op()` where they initialise, `main_op_with_restore` where they also restore.
VARIANTS = {
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
LOADS = {
    "loader_load": Ordering(
        ("restore_all", VARIANT_STEPS),
        "tf.compat.v1.saved_model.loader.load: the variables' restore, then the init op",
        run=LoaderLoad(),
    ),
    "loader_load_then_init": Ordering(
        ("restore_all", VARIANT_STEPS, "initialize_all"),
        "loader.load, then the user's global_variables_initializer()",
        run=LoaderLoad(then_initialize=True),
    ),
    "load_v2_restore": Ordering(
        ("restore_all",),
        "tf.saved_model.load in graph mode, then the saved_model_initializers it asks for",
        run=LoadV2(("restore",)),
    ),
    "load_v2_restore_then_tables": Ordering(
        ("restore_all", VARIANT_STEPS),
        "the same, then tables_initializer(), which runs the SavedModel's init op",
        run=LoadV2(("restore", "tables")),
    ),
    "load_v2_global_init": Ordering(
        (),
        "tf.saved_model.load in graph mode, then global_variables_initializer() alone",
        run=LoadV2(("global",)),
    ),
}
FORMAT = Format(
    "The built model as a SavedModel, per export variant and way of loading it",
    VARIANTS,
    exported_orderings(VARIANTS, LOADS),
    export="exporting:export_savedmodel",
    load="loading:audit_exported",
)
