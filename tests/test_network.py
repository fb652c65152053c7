import pytest

import network


def test_variable_shapes_follow_the_seed_network():
    assert network.variable_shapes() == {
        "conv_1/kernel": (3, 3, 3, 32),
        "conv_1/bias": (32,),
        "conv_2/kernel": (3, 3, 32, 32),
        "conv_2/bias": (32,),
        "conv_3/kernel": (3, 3, 32, 64),
        "conv_3/bias": (64,),
    }
    assert network.output_shape(4) == (4, 25, 25, 64)


@pytest.mark.parametrize("name", ["conv_1/kernel", "conv_1/kernel:0", "conv_1/kernel/read:0"])
def test_tensor_spellings_name_the_same_variable(name):
    assert network.variable_name(name) == "conv_1/kernel"


def test_unknown_tensor_lists_the_model_variables():
    with pytest.raises(ValueError, match=r"conv_9/kernel.*it has: conv_1/kernel, conv_1/bias"):
        network.variable_name("conv_9/kernel")
