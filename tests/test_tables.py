"""The verdicts of tables.py on small tables: which rows are judged, unexpected, inconclusive;
which orderings fail the inference check; which status checks differ."""

import pandas as pd

from ckptorder import orderings, tables
from ckptorder.formats import object_ckpt

RESTORED, REINITIALIZED = orderings.RESTORED, orderings.REINITIALIZED
KEY = dict(zip(tables.ORDERING_KEY, ("mine", "ckpt", "", "restore_only"), strict=True))


def test_only_rows_with_an_expected_outcome_are_judged():
    table = pd.DataFrame(
        {
            "outcome": [RESTORED, REINITIALIZED, REINITIALIZED, RESTORED, RESTORED],
            "expected": [RESTORED, RESTORED, "", None, REINITIALIZED],
            "saved_equals_initial": [False, False, False, False, True],
        }
    )
    assert tables.judged(table).tolist() == [True, True, False, False, True]
    assert tables.unexpected(table).tolist() == [False, True, False, False, False], (
        "restored and reinitialized are alike where the saved values are the initial ones"
    )


def test_an_expected_either_admits_each_and_what_each_cannot_be_told_from():
    either = f"{orderings.CHANGED}{orderings.EITHER}{REINITIALIZED}"
    table = pd.DataFrame(
        {
            "outcome": [orderings.CHANGED, REINITIALIZED, RESTORED, RESTORED],
            "expected": [either] * 4,
            "saved_equals_initial": [False, False, False, True],
        }
    )
    assert tables.unexpected(table).tolist() == [False, False, True, False]


def test_a_probe_whose_saved_values_are_its_initial_ones_is_inconclusive_once():
    report = pd.DataFrame(
        {
            "checkpoint": ["mine"] * 3 + ["other"],
            "tensor": ["a", "a", "b", "a"],
            "slice": ["[0]"] * 4,
            "saved_equals_initial": [True, True, False, True],
            "expected": [RESTORED, RESTORED, RESTORED, ""],
            "outcome": [RESTORED] * 4,
        }
    )
    found = tables.inconclusive(report)
    assert found[["checkpoint", "tensor"]].values.tolist() == [["mine", "a"]]


def test_the_inference_check_judges_only_orderings_that_restored_every_variable():
    """And only a judged checkpoint's: one that is reported (no expected) is not held to it."""
    keys = [{**KEY, "ordering": o} for o in ("restore_only", "init_only", "broken")]
    reported = {**KEY, "checkpoint": "outside", "ordering": "broken"}
    variables = pd.DataFrame(
        [{**k, "outcome": RESTORED, "expected": RESTORED} for k in (keys[0], keys[2])]
        + [{**keys[1], "outcome": REINITIALIZED, "expected": REINITIALIZED}]
        + [{**keys[2], "outcome": RESTORED, "expected": RESTORED}]
        + [{**reported, "outcome": RESTORED, "expected": ""}]
    )
    diffs = (0.0, 1.0, 0.5, 0.5)
    inference = pd.DataFrame(
        [
            {**k, "max_abs_diff": d, "bit_equal": d == 0.0, "error": ""}
            for k, d in zip([*keys, reported], diffs, strict=True)
        ]
    )
    everything = tables.restoring_everything(inference, variables)
    assert everything["ordering"].tolist() == ["restore_only", "broken"]
    assert everything["checkpoint"].tolist() == [KEY["checkpoint"]] * 2
    assert tables.inference_failures(inference, variables)["ordering"].tolist() == ["broken"]


def test_a_savedmodels_signature_is_held_after_loads_that_ran_its_init_op_where_it_ran():
    """A judged SavedModel from outside: every variable restored, its signatures are held to
    the reference after the loads that ran its init op (which makes its tables), where the
    check ran (the guard did not refuse it)."""
    loads = ("loader_load", "load_v2_restore", "load_v2_eager")
    keys = [{**KEY, "format": "savedmodel", "variant": "tf1", "ordering": o} for o in loads]
    variables = pd.DataFrame([{**k, "outcome": RESTORED, "expected": RESTORED} for k in keys])
    errors = ("", "FailedPreconditionError: Table not initialized.", orderings.GUARD_REFUSED + "x")
    inference = pd.DataFrame(
        [
            {**k, "max_abs_diff": float("nan"), "bit_equal": not error, "error": error}
            for k, error in zip(keys, errors, strict=True)
        ]
    )
    held = tables.restoring_everything(inference, variables)
    assert held["ordering"].tolist() == ["loader_load", "load_v2_eager"]
    assert tables.inference_failures(inference, variables).empty
    inference.loc[0, ["bit_equal", "error"]] = [False, "InvalidArgumentError: broken"]
    assert tables.inference_failures(inference, variables)["ordering"].tolist() == ["loader_load"]


def test_a_status_check_that_differs_from_tensorflow_2_21_is_named():
    name = "model.initialize_or_restore_extra_variable"
    variant, ordering = name.split(".")
    expected = orderings.ordering(name).status
    given = dict(zip(object_ckpt.STATUS_CHECKS, expected, strict=True))
    row = {**KEY, "format": "object_ckpt", "variant": variant, "ordering": ordering, **given}
    assert tables.status_mismatches(pd.DataFrame([row, row])) == []
    row[object_ckpt.STATUS_CHECKS[0]] = object_ckpt.PASSES
    found = tables.status_mismatches(pd.DataFrame([row]))
    assert [(check, given, want) for _, check, given, want in found] == [
        (object_ckpt.STATUS_CHECKS[0], object_ckpt.PASSES, expected[0])
    ]
