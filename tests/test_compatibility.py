"""compatibility.py: each graph variable against a checkpoint's keys, and the key a missing
variable is most likely held under."""

import pytest

from ckptorder import compatibility

F32 = "float32"
OLD = {
    "dense_0/kernel": ((6, 4), F32),
    "dense_0/bias": ((4,), F32),
    "dense_1/kernel": ((4, 2), F32),
    "dense_1/bias": ((2,), F32),
    "dense_1/kernel/Adam": ((4, 2), F32),
    "global_step": ((), "int64"),
}


def statuses(variables, keys=OLD):
    return {
        (row["variable"] or row["key"]): (row["status"], row["suggested_key"])
        for row in compatibility.rows(variables, keys)
    }


def test_each_variable_and_each_unused_key_gets_a_row():
    variables = {
        "dense_0/kernel": ((6, 4), F32),
        "dense_0/bias": ((4,), "float64"),
        "dense_1/kernel": ((4, 5), F32),
        "extra/kernel": ((2, 3), F32),
    }
    assert statuses(variables) == {
        "dense_0/kernel": ("match", ""),
        "dense_0/bias": ("dtype_mismatch", ""),
        "dense_1/kernel": ("shape_mismatch", ""),
        "extra/kernel": ("missing_in_checkpoint", ""),
        "dense_1/bias": ("unused_key", ""),
        "dense_1/kernel/Adam": ("unused_key", ""),
        "global_step": ("unused_key", ""),
    }
    (scalar,) = [r for r in compatibility.rows(variables, OLD) if r["key"] == "global_step"]
    assert scalar["checkpoint_shape"] == "[]" and scalar["graph_shape"] == ""


@pytest.mark.parametrize(
    ("variable", "spec", "key"),
    [
        ("head/kernel", ((4, 2), F32), "dense_1/kernel"),  # a scope renamed
        ("model/dense_1/bias", ((2,), F32), "dense_1/bias"),  # a scope added in front
        ("dense_3/bias", ((2,), F32), "dense_1/bias"),  # another _N
        ("head/kernel", ((4, 3), F32), None),  # the same name, another shape
        ("head/kernel", ((4, 2), "float64"), None),  # another dtype
        ("head/weights", ((4, 2), F32), None),  # another name
    ],
)
def test_a_missing_variable_is_given_the_key_it_most_likely_is(variable, spec, key):
    assert compatibility.suggested_key(variable, spec, OLD) == key


def test_no_suggestion_where_two_keys_fit():
    keys = {"a/kernel": ((2,), F32), "b/kernel": ((2,), F32)}
    assert compatibility.suggested_key("c/kernel", ((2,), F32), keys) is None


def test_the_suggested_map_holds_the_matches_and_the_suggestions():
    variables = {"dense_0/kernel": ((6, 4), F32), "head/kernel": ((4, 2), F32)}
    found = compatibility.rows(variables, OLD)
    assert compatibility.suggested_map(found) == {
        "dense_0/kernel": "dense_0/kernel",
        "dense_1/kernel": "head/kernel",
    }
