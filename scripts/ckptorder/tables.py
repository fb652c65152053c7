"""The results tables report writes (their columns, in order) and every verdict drawn from
them: whether an outcome is the expected one, which probes are inconclusive, which orderings
the inference check fails and which status checks differ from TensorFlow 2.21's. report.py,
verify.py and the tests read them from here. The outcome names are `orderings.OUTCOMES`."""

import pandas as pd

from ckptorder import compatibility, orderings
from ckptorder.formats import object_ckpt

# Where a row's values come from: the checkpoint (its name in the config), the format it was
# written in, the export variant ('' for a checkpoint's own orderings) and the ordering.
ORDERING_KEY = ("checkpoint", "format", "variant", "ordering")
MEASURES = (
    "n_values",
    "max_abs_diff_vs_saved",
    "equal_to_saved",
    "equal_to_initial",
    "saved_equals_initial",
)
VERDICT = ("outcome", "error", "initializer", "expected", "as_expected", *object_ckpt.STATUS_CHECKS)
REPORT = (*ORDERING_KEY, "tensor", "slice", *MEASURES, *VERDICT)
VARIABLES = (*ORDERING_KEY, "variable", "source", *MEASURES, *VERDICT)
INFERENCE_CHECK = ("max_abs_diff", "bit_equal", "error")
INFERENCE = (*ORDERING_KEY, "output", *INFERENCE_CHECK)
COMPATIBILITY = ("checkpoint", *compatibility.COLUMNS)
TRAJECTORY = ("run", "step", "tensor", "slice", "index", "value")


# Outcomes that a variable whose saved values are bit for bit its initial ones (a counter, a
# constant, a layer training never reached) cannot tell apart.
ALIKE = (orderings.RESTORED, orderings.REINITIALIZED)


def as_expected(table):
    """Whether each row's outcome is its expected one (one of them, where TensorFlow does not
    fix which: orderings.EITHER), or one it cannot be told from (ALIKE, where the saved values
    are the initial ones)."""
    allowed = [
        orderings.allowed_outcomes(expected) if isinstance(expected, str) else ()
        for expected in table["expected"]
    ]
    admitted = [outcome in a for outcome, a in zip(table["outcome"], allowed, strict=True)]
    alike = (
        table["saved_equals_initial"].eq(True)
        & table["outcome"].isin(ALIKE)
        & pd.Series([any(o in ALIKE for o in a) for a in allowed], index=table.index)
    )
    return pd.Series(admitted, index=table.index) | alike


def judged(table):
    """The rows with an expected outcome (a checkpoint without one is reported, not judged)."""
    return table["expected"].notna() & (table["expected"] != "")


def unexpected(table):
    return judged(table) & ~as_expected(table)


def inconclusive(report):
    """The judged probes whose saved values are bit for bit their initial ones: there nothing
    can tell a restore from an initialisation. One row per checkpoint and probe."""
    rows = report[judged(report) & report["saved_equals_initial"]]
    return rows.drop_duplicates(["checkpoint", "tensor", "slice"])


def given_savedmodel(table):
    """The rows of SavedModels brought from outside (their kind is their variant)."""
    return (table["format"] == "savedmodel") & table["variant"].isin(
        orderings.GIVEN_SAVEDMODEL.variants
    )


def restoring_everything(inference, variables):
    """The inference rows of the judged orderings that restored every variable (a checkpoint
    that is reported, not judged, is not held to its output either) and, of a SavedModel from
    outside, ran its init op: a load that does not leaves what else the init op makes (a
    lookup table) unmade."""
    restored = (
        ((variables["outcome"] == orderings.RESTORED) & judged(variables))
        .groupby([variables[key] for key in ORDERING_KEY], sort=False)
        .all()
    )
    rows = inference.join(restored.rename("all_restored"), on=list(ORDERING_KEY))
    given = given_savedmodel(rows)
    ran_init_op = [
        not outside or orderings.runs_init_op(f"{variant}.{ordering}")
        for outside, variant, ordering in zip(given, rows["variant"], rows["ordering"], strict=True)
    ]
    return rows[rows["all_restored"].eq(True) & pd.Series(ran_init_op, index=rows.index)]


def inference_failures(inference, variables):
    """The outputs of the judged orderings that restored every variable and yet did not give
    the saved model's output bit for bit, where the check ran."""
    rows = restoring_everything(inference, variables)
    not_checked = rows["error"].fillna("").astype(str).str.startswith(orderings.NOT_CHECKED)
    return rows[~rows["bit_equal"] & ~not_checked]


def status_mismatches(report):
    """(row, check, given, expected) for each object_ckpt ordering and status check whose
    result is not what its Ordering says TensorFlow 2.21 gives (where it says: not for a
    checkpoint restored into a user's model)."""
    rows = report[report["format"] == "object_ckpt"].drop_duplicates(list(ORDERING_KEY))
    return [
        (row, check, given, expected)
        for row in rows.itertuples()
        if (checks := orderings.ordering(f"{row.variant}.{row.ordering}").status)
        for check, expected in zip(object_ckpt.STATUS_CHECKS, checks, strict=True)
        if (given := getattr(row, check)) != expected
    ]
