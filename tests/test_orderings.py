import orderings
from conftest import OUTCOMES

VARIABLES = ["conv_1/kernel", "conv_1/bias", "conv_3/kernel"]


def test_last_write_decides_the_expected_outcome():
    for ordering, outcome in OUTCOMES.items():
        outcomes = orderings.expected_outcomes(ordering, VARIABLES, ["conv_1/kernel"])
        assert outcomes == dict.fromkeys(VARIABLES, outcome), ordering


def test_partial_restore_expects_per_variable():
    outcomes = orderings.expected_outcomes("partial_restore", VARIABLES, ["conv_1/kernel"])
    assert outcomes == {
        "conv_1/kernel": "restored",
        "conv_1/bias": "reinitialized",
        "conv_3/kernel": "reinitialized",
    }
