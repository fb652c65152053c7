"""The seed's network as TF2 code writes it: a tf.Module of tf.Variables (no Keras), the
layers of `network.py` with the same variable names (`conv_1/kernel`, ...), so that
tf.train.Checkpoint keys them `model/conv_1/kernel/...` and a name-based restore finds them in
the TF1 checkpoint. Its variables are made by `create()`, not by the constructor: eager code
can restore before they exist."""

import math

from ckptorder import network
from ckptorder.tfsession import tf

# The variable the network with one variable more adds (it is in no checkpoint).
EXTRA_VARIABLE = "extra/bias"


class Layer(tf.Module):
    """A conv layer's kernel (Glorot-uniform) and bias (zeros). The kernel's initial value is
    drawn by a stateless op seeded with (seed, layer number): it is the same in graph and
    eager mode, and each time an initializer runs."""

    def __init__(self, scope, kernel_shape, seed, number):
        super().__init__()
        height, width, channels, filters = kernel_shape
        limit = math.sqrt(6 / (height * width * (channels + filters)))
        with tf.name_scope(scope):
            self.kernel = tf.Variable(
                lambda: tf.random.stateless_uniform(kernel_shape, [seed, number], -limit, limit),
                name="kernel",
            )
            self.bias = tf.Variable(lambda: tf.zeros([filters]), name="bias")


def constant_variables(extra_layers):
    """The network's variables whose initial value is a constant (the biases, the extra
    variable): the kernels' are drawn at random."""
    names = [*network.variable_shapes(extra_layers), EXTRA_VARIABLE]
    return [name for name in names if not name.endswith("/kernel")]


class Network(tf.Module):
    """The network of `network.layers(extra_layers)`; `extra_variable`: with EXTRA_VARIABLE."""

    def __init__(self, seed, extra_layers=(), extra_variable=False):
        super().__init__()
        self._settings = seed, tuple(extra_layers), extra_variable

    def create(self):
        """Create the variables, each as an attribute (what tf.train.Checkpoint tracks)."""
        seed, extra_layers, extra_variable = self._settings
        shapes = network.variable_shapes(extra_layers)
        for number, (scope, _, _) in enumerate(network.layers(extra_layers)):
            setattr(self, scope, Layer(scope, shapes[f"{scope}/kernel"], seed, number))
        if extra_variable:
            scope, name = EXTRA_VARIABLE.split("/")
            with tf.name_scope(scope):
                self.extra = tf.Variable(lambda: tf.ones([4]), name=name)
        return self

    def variables_by_name(self):
        """Each variable by its name, in `network.variable_shapes` order, the extra one last."""
        found = {variable.name.removesuffix(":0"): variable for variable in self.variables}
        order = [*network.variable_shapes(self._settings[1]), EXTRA_VARIABLE]
        return {name: found[name] for name in order if name in found}

    def __call__(self, inputs):
        """The network's output: conv2d ("SAME") and bias add, layer after layer."""
        for scope, _, stride in network.layers(self._settings[1]):
            layer = getattr(self, scope)
            inputs = tf.nn.conv2d(inputs, layer.kernel, strides=stride, padding="SAME")
            inputs = tf.nn.bias_add(inputs, layer.bias)
        return inputs
