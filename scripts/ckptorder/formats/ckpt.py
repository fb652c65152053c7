"""A TF1 checkpoint with its `.meta` graph, the built model's or one from outside: each ordering
runs its steps one by one in a fresh session of the graph (`restoring.prepare` builds each
step's action), so an ordering is its steps alone."""

from ckptorder.formats import Format, Ordering

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
# The orderings of a checkpoint without moving averages, such as the built model's.
BUILT_ORDERINGS = [
    name for name, o in ORDERINGS.items() if "restore_moving_averages" not in o.steps
]
FORMAT = Format("Outcomes per checkpoint, ordering and probe", {}, ORDERINGS)
