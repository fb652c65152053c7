"""The seed's network, described once in plain Python.

build.py makes its TensorFlow variables from this description, and the Snakefile checks probe
names and index ranges against it at load time, without importing TensorFlow.
"""

INPUT_SHAPE = (None, 100, 100, 3)
KERNEL_SIZE = 3

# The seed's probe, and the same slice of conv_3 (which partial_restore does not restore).
SEED_PROBES = [
    {"tensor": "conv_1/kernel/read:0", "slice": "[1, :, :, 1]"},
    {"tensor": "conv_3/kernel", "slice": "[1, :, :, 1]"},
]

# (scope, filters, stride): conv2d layers with "SAME" padding, applied in order.
LAYERS = (
    ("conv_1", 32, 2),
    ("conv_2", 32, 1),
    ("conv_3", 64, 2),
)


def variable_shapes():
    """Name and shape of every variable, in creation order."""
    shapes = {}
    channels = INPUT_SHAPE[-1]
    for scope, filters, _ in LAYERS:
        shapes[f"{scope}/kernel"] = (KERNEL_SIZE, KERNEL_SIZE, channels, filters)
        shapes[f"{scope}/bias"] = (filters,)
        channels = filters
    return shapes


def output_shape(batch_size):
    """Shape of the last layer's output for a batch of inputs."""
    height, width = INPUT_SHAPE[1:3]
    for _, _, stride in LAYERS:
        height, width = -(-height // stride), -(-width // stride)
    return (batch_size, height, width, LAYERS[-1][1])


def variable_name(tensor_name):
    """The variable a tensor name means: `conv_1/kernel/read:0` and `conv_1/kernel:0` both
    mean `conv_1/kernel`. Raises ValueError, listing the model's variables, for any other name."""
    name = tensor_name.strip()
    name = name.removesuffix(":0").removesuffix("/read")
    shapes = variable_shapes()
    if name not in shapes:
        raise ValueError(f"tensor {tensor_name!r} is not in the model; it has: {', '.join(shapes)}")
    return name
