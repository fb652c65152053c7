"""The seed's network, described once in plain Python.

build.py makes its TensorFlow variables from this description, and the Snakefile checks probe
names and index ranges against it at load time, without importing TensorFlow.
"""

import math

INPUT_SHAPE = (None, 100, 100, 3)
INPUT = "input:0"
KERNEL_SIZE = 3

# (scope, filters, stride): conv2d layers with "SAME" padding, applied in order.
SEED_LAYERS = (
    ("conv_1", 32, 2),
    ("conv_2", 32, 1),
    ("conv_3", 64, 2),
)


def layers(extra_layers=()):
    """The seed's layers, then one 3x3 stride-2 layer per entry of `extra_layers` (its filter
    count): the way to grow the checkpoint while the spatial size, and so the work, shrinks."""
    extra = tuple(
        (f"conv_{len(SEED_LAYERS) + n}", filters, 2)
        for n, filters in enumerate(extra_layers, start=1)
    )
    return SEED_LAYERS + extra


def variable_shapes(extra_layers=()):
    """Name and shape of every variable, in creation order."""
    shapes = {}
    channels = INPUT_SHAPE[-1]
    for scope, filters, _ in layers(extra_layers):
        shapes[f"{scope}/kernel"] = (KERNEL_SIZE, KERNEL_SIZE, channels, filters)
        shapes[f"{scope}/bias"] = (filters,)
        channels = filters
    return shapes


def checkpoint_mb(extra_layers=()):
    """The size of the network's float32 variables in MiB: about its checkpoint's size."""
    return 4 * sum(math.prod(shape) for shape in variable_shapes(extra_layers).values()) / 2**20


def output_shape(batch_size, extra_layers=()):
    """Shape of the last layer's output for a batch of inputs."""
    height, width = INPUT_SHAPE[1:3]
    model = layers(extra_layers)
    for _, _, stride in model:
        height, width = -(-height // stride), -(-width // stride)
    return (batch_size, height, width, model[-1][1])


def output_tensor(extra_layers=()):
    """The network's output: its last layer's bias add."""
    return f"{layers(extra_layers)[-1][0]}/BiasAdd:0"


def variable_name(tensor_name, names):
    """The variable of `names` a tensor name means: `conv_1/kernel/read:0` and
    `conv_1/kernel:0` both mean `conv_1/kernel`. Raises ValueError, listing `names`."""
    name = tensor_name.strip().removesuffix(":0").removesuffix("/read")
    if name not in names:
        raise ValueError(f"tensor {tensor_name!r} is not in the model; it has: {', '.join(names)}")
    return name
