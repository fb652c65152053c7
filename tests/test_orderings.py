import orderings

VARIABLES = ["conv_1/kernel", "conv_1/bias", "conv_3/kernel"]


def test_last_write_decides_the_expected_outcome():
    expect = {
        "init_then_restore": "restored",
        "restore_then_init": "reinitialized",
        "restore_only": "restored",
        "init_only": "reinitialized",
        "restore_then_init_uninitialized": "restored",
        "init_from_checkpoint": "restored",
    }
    for ordering, outcome in expect.items():
        outcomes = orderings.expected_outcomes(ordering, VARIABLES, ["conv_1/kernel"])
        assert outcomes == dict.fromkeys(VARIABLES, outcome), ordering


def test_partial_restore_expects_per_variable():
    outcomes = orderings.expected_outcomes("partial_restore", VARIABLES, ["conv_1/kernel"])
    assert outcomes == {
        "conv_1/kernel": "restored",
        "conv_1/bias": "reinitialized",
        "conv_3/kernel": "reinitialized",
    }
