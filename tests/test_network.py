import pytest

from ckptorder import network


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
    assert network.variable_name(name, network.variable_shapes()) == "conv_1/kernel"


def test_unknown_tensor_lists_the_model_variables():
    with pytest.raises(ValueError, match=r"conv_9/kernel.*it has: conv_1/kernel, conv_1/bias"):
        network.variable_name("conv_9/kernel", network.variable_shapes())


def test_extra_layers_grow_the_model_at_shrinking_sizes():
    shapes = network.variable_shapes([8, 16])
    assert shapes["conv_4/kernel"] == (3, 3, 64, 8)
    assert shapes["conv_5/kernel"] == (3, 3, 8, 16) and shapes["conv_5/bias"] == (16,)
    assert network.output_shape(2, [8, 16]) == (2, 7, 7, 16)
