"""The orderings of "initialise" and "restore" this pipeline runs, and what each should give.

Each ordering is a sequence of steps. What a variable ends up holding is decided by the last
step that writes it, so the expected outcome of every variable follows from the steps:
a restoring step leaves it `restored`, an initialising step `reinitialized`.
Pure Python: the Snakefile, the report and the figures use it without importing TensorFlow.
"""

# step: (what it writes, the outcome it leaves)
STEPS = {
    "initialize_all": ("all", "reinitialized"),
    "restore_all": ("all", "restored"),
    "restore_partial": ("partial", "restored"),
    "initialize_uninitialized": ("unwritten", "reinitialized"),
    "initialize_from_checkpoint": ("all", "restored"),
    # init_from_checkpoint with the map compatibility.py suggests: the mapped variables read the
    # checkpoint, the others run their own initializers.
    "initialize_from_suggested_map": ("mapped", "restored"),
}

ORDERINGS = {
    "init_then_restore": (
        ("initialize_all", "restore_all"),
        "the seed's experiment 1: run the initializers, then Saver.restore",
    ),
    "restore_then_init": (
        ("restore_all", "initialize_all"),
        "the seed's experiment 2: Saver.restore, then the initializers wipe what it restored",
    ),
    "restore_only": (
        ("restore_all",),
        "Saver.restore alone: it sets every saved variable, no initializer is needed",
    ),
    "init_only": (
        ("initialize_all",),
        "the control that never reads the checkpoint: the initializers alone",
    ),
    "restore_then_init_uninitialized": (
        ("restore_all", "initialize_uninitialized"),
        "Saver.restore, then initialise only what report_uninitialized_variables lists",
    ),
    "partial_restore": (
        ("restore_partial", "initialize_uninitialized"),
        "a Saver with a var_list restores some variables, the initializers set the rest",
    ),
    "init_from_checkpoint": (
        ("initialize_from_checkpoint",),
        "init_from_checkpoint turns the initializers into reads of the checkpoint, then they run",
    ),
    "restore_with_suggested_map": (
        ("initialize_from_suggested_map",),
        "init_from_checkpoint with the names matched or suggested in compatibility.csv",
    ),
}


def steps(state):
    """The steps of an ordering; the `initial` state's are the initializers alone, in a fresh
    session."""
    return ("initialize_all",) if state == "initial" else ORDERINGS[state][0]


def ordering_of(*wanted):
    """The ordering that runs exactly the steps `wanted`: tests and the benchmark name
    orderings by what they do, so that this module stays the one place their names are written."""
    return next(ordering for ordering in ORDERINGS if steps(ordering) == wanted)


def reads_checkpoint(ordering):
    """Whether any step of the ordering reads the checkpoint's values."""
    return any(STEPS[step][1] == "restored" for step in steps(ordering))


def expected_outcomes(ordering, variables, partial_variables, mapped=()):
    """Variable name to the outcome the ordering's last write to it leaves; `mapped`: the
    variables the suggested map restores."""
    outcome = {}
    for step in steps(ordering):
        writes, leaves = STEPS[step]
        for name in variables:
            if writes == "mapped":
                outcome[name] = leaves if name in mapped else "reinitialized"
            elif (
                writes == "all"
                or (writes == "partial" and name in partial_variables)
                or (writes == "unwritten" and name not in outcome)
            ):
                outcome[name] = leaves
    return outcome


# Where an ordering leaves no value to compare: it raised, or a variable holds nothing.
FAILED = "failed"
UNINITIALIZED = "uninitialized"


def observed_outcome(equal_to_saved, equal_to_initial):
    """The outcome values show: bit for bit the saved ones, else the initial ones, else neither."""
    if equal_to_saved:
        return "restored"
    return "reinitialized" if equal_to_initial else "changed"


# The states every ordering is compared with: the values the checkpoint's files hold, and those
# its graph's initializers give in a fresh session.
REFERENCES = ("saved", "initial")


def states(ordering_names):
    """Every state a run compares: the references, then the orderings."""
    return [*REFERENCES, *ordering_names]
