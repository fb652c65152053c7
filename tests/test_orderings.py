import pytest

from ckptorder import formats, orderings
from ckptorder.formats import ckpt
from ckptorder.orderings import ordering_of

VARIABLES = ["conv_1/kernel", "conv_1/bias", "conv_3/kernel"]


def outcomes(*steps, partial=()):
    return orderings.expected_outcomes(ordering_of(*steps), VARIABLES, list(partial))


def test_the_seed_experiments_are_run_and_expect_what_the_post_says():
    assert outcomes("initialize_all", "restore_all") == dict.fromkeys(VARIABLES, "restored")
    assert outcomes("restore_all", "initialize_all") == dict.fromkeys(VARIABLES, "reinitialized")


def test_the_last_write_decides_the_expected_outcome():
    assert outcomes("restore_all") == dict.fromkeys(VARIABLES, "restored")
    assert outcomes("initialize_all") == dict.fromkeys(VARIABLES, "reinitialized")
    assert outcomes("restore_all", "initialize_uninitialized") == dict.fromkeys(
        VARIABLES, "restored"
    )
    assert outcomes("initialize_from_checkpoint") == dict.fromkeys(VARIABLES, "restored")


def test_a_partial_restore_expects_per_variable():
    assert outcomes("restore_partial", "initialize_uninitialized", partial=["conv_1/kernel"]) == {
        "conv_1/kernel": "restored",
        "conv_1/bias": "reinitialized",
        "conv_3/kernel": "reinitialized",
    }


def test_the_suggested_map_restores_what_it_maps_and_initialises_the_rest():
    ordering = ordering_of("initialize_from_suggested_map")
    assert orderings.expected_outcomes(ordering, VARIABLES, [], mapped=["conv_1/bias"]) == {
        "conv_1/kernel": "reinitialized",
        "conv_1/bias": "restored",
        "conv_3/kernel": "reinitialized",
    }


def test_two_formats_may_not_give_one_ordering_name_two_meanings():
    restore = formats.Ordering(("restore_all",), "restore")
    ours = formats.Format("ours", {}, {"load_it": restore})
    same = formats.Format("same", {}, {"load_it": restore})
    assert orderings.merged_orderings([ours, same]) == {"load_it": restore}
    other = formats.Format("other", {}, {"load_it": restore._replace(steps=("init_op",))})
    with pytest.raises(ValueError, match="'load_it': two formats define it, differently"):
        orderings.merged_orderings([ours, other])


def test_every_step_of_every_ordering_is_defined():
    for ordering in ckpt.ORDERINGS:
        assert orderings.steps(ordering) and set(orderings.steps(ordering)) <= set(orderings.STEPS)
    for format_ in orderings.FORMATS:
        for ordering in orderings.format_orderings(format_):
            assert set(orderings.steps(ordering)) <= set(orderings.STEPS)


def test_a_formats_ordering_runs_the_load_with_the_variants_init_op_in_place():
    assert orderings.steps("main_op.loader_load_then_init") == (
        "restore_all",
        "initialize_all",
        "initialize_all",
    )
    assert orderings.steps("no_init_op.loader_load") == ("restore_all",)
    assert orderings.steps("after_restore_then_init.import_graph_def") == (
        "restore_all",
        "initialize_all",
    )


def test_initialising_again_in_one_session_changes_what_random_initializers_set():
    assert orderings.expected_outcomes(
        "main_op.loader_load_then_init", VARIABLES, [], random=["conv_1/kernel", "conv_3/kernel"]
    ) == {"conv_1/kernel": "changed", "conv_1/bias": "reinitialized", "conv_3/kernel": "changed"}


def test_a_step_that_raises_fails_the_ordering_and_an_unwritten_variable_is_uninitialized():
    failing = "main_op_with_restore.loader_load"
    assert orderings.expected_outcomes(failing, VARIABLES, []) == dict.fromkeys(VARIABLES, "failed")
    unwritten = "main_op.load_v2_global_init"
    assert orderings.expected_outcomes(unwritten, VARIABLES, []) == dict.fromkeys(
        VARIABLES, "uninitialized"
    )


def test_observed_outcome_is_bitwise_saved_first():
    assert orderings.observed_outcome(True, True) == "restored"
    assert orderings.observed_outcome(False, True) == "reinitialized"
    assert orderings.observed_outcome(False, False) == "changed"


def test_an_initializer_that_copies_a_variable_expects_what_that_one_holds_then():
    """An ExponentialMovingAverage shadow's initializer reads the variable it averages: after
    a restore of that variable, `changed`; initialised in the same run as that variable after
    a restore, either, since TensorFlow does not fix which runs first."""
    shadow = "w/ExponentialMovingAverage"
    copies = {shadow: {"w": False}}

    def expected(*steps, partial=()):
        ordering = ordering_of(*steps)
        return orderings.expected_outcomes(ordering, [shadow], list(partial), copies=copies)[shadow]

    assert expected("initialize_all") == "reinitialized"
    assert expected("initialize_all", "restore_all") == "restored"
    assert expected("restore_partial", "initialize_uninitialized", partial=["w"]) == "changed"
    racing = expected("restore_all", "initialize_all")
    assert orderings.allowed_outcomes(racing) == ("changed", "reinitialized")
    assert expected("restore_all", "initialize_uninitialized") == "restored"
    copies = {shadow: {"w": True}}  # the shadow saved as its variable: a converged average
    assert expected("restore_partial", "initialize_uninitialized", partial=["w"]) == "restored"
    racing = expected("restore_all", "initialize_all")
    assert orderings.allowed_outcomes(racing) == ("reinitialized", "restored")


def test_restoring_moving_averages_leaves_the_shadows_and_fails_without_them():
    averages = orderings.MovingAverages({"w": "w/ExponentialMovingAverage"}, [])
    ordering = ordering_of("restore_moving_averages")
    names = ["w", "w/ExponentialMovingAverage", "global_step"]
    assert orderings.expected_outcomes(ordering, names, None, averages=averages) == {
        "w": "restored",
        "w/ExponentialMovingAverage": "uninitialized",
        "global_step": "restored",
    }
    lacking = averages._replace(missing=["w/ExponentialMovingAverage"])
    found = orderings.expected_outcomes(ordering, names, None, averages=lacking)
    assert set(found.values()) == {"failed"}
