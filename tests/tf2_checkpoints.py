"""Write a TF2 checkpoint as users' code writes it, for the tests (a process of its own, as
savedmodels.py), and the functions a `checkpoints:` entry's `model: tests/tf2_checkpoints.py:
FUNCTION` names to build what to restore it into.

    python tests/tf2_checkpoints.py KIND PREFIX

KIND: `keras_with_optimizer`, a trained Keras model and its Adam optimizer saved by
tf.train.Checkpoint(model=..., optimizer=...).save(PREFIX); `module`, a tf.Module of two
variables, changed from their initial values, saved as tf.train.Checkpoint(net=module);
`tf1_dense`, what TF 1.x code saved of the same layers as the Keras model (hidden/kernel, ...,
reference variables, and global_step) with a Saver. Seeded: the same kind gives the same
values. Prints the prefix written (`save` makes it PREFIX-1)."""

from savedmodels import keras_network, run_writer, trained_keras_model


def keras_with_optimizer(prefix):
    import tensorflow as tf

    model = trained_keras_model()
    return tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(prefix)


def new_dense():
    import tensorflow as tf

    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.random.stateless_uniform([3, 2], [1, 2]), name="kernel")
            self.bias = tf.Variable(tf.zeros([2]), name="bias")

    return Dense()


def module(prefix):
    import tensorflow as tf

    dense = new_dense()
    dense.kernel.assign_add(tf.ones([3, 2]))
    dense.bias.assign_add(tf.ones([2]))
    return tf.train.Checkpoint(net=dense).save(prefix)


# The Keras model's layers, by name scope, with their kernels' shapes.
LAYERS = {"hidden": [4, 5], "out": [5, 3]}


def tf1_dense(prefix):
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(3)
        for scope, shape in LAYERS.items():
            v1.get_variable(f"{scope}/kernel", shape, use_resource=False)
            ones = v1.ones_initializer()  # not the TF2 model's zeros: restored shows
            v1.get_variable(f"{scope}/bias", shape[1:], initializer=ones, use_resource=False)
        v1.train.get_or_create_global_step()
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            return v1.train.Saver().save(sess, prefix)


# What entries' `model:` names: each builds what to restore into, as a user's code would.
def keras_model():
    """The Keras model of keras_with_optimizer, new, with a new Adam optimizer."""
    import keras

    return {"model": keras_network(), "optimizer": keras.optimizers.Adam()}


def wider_keras_model():
    """The same with a hidden layer one unit wider: its kernels' shapes differ."""
    return {"model": keras_network(width=6)}


def dense_as_model():
    """module's tf.Module, tracked as `model` where the checkpoint has it as `net`."""
    return {"model": new_dense()}


def dense_as_net():
    """module's tf.Module as the checkpoint has it."""
    return {"net": new_dense()}


def dense_alone():
    """module's tf.Module alone: what to restore into is the Checkpoint's root."""
    return new_dense()


def scoped_module():
    """TF2 code of tf1_dense's layers: a tf.Module whose variables are named as TF 1.x named
    them (name scopes), which a name-based restore finds."""
    import tensorflow as tf

    model = tf.Module()
    for scope, shape in LAYERS.items():
        with tf.name_scope(scope):
            setattr(model, f"{scope}_kernel", tf.Variable(tf.zeros(shape), name="kernel"))
            setattr(model, f"{scope}_bias", tf.Variable(tf.zeros(shape[1:]), name="bias"))
    return {"model": model}


WRITERS = {
    "keras_with_optimizer": keras_with_optimizer,
    "module": module,
    "tf1_dense": tf1_dense,
}
KINDS = tuple(WRITERS)


if __name__ == "__main__":
    print(run_writer(__doc__, WRITERS, "the checkpoint's prefix, as given to save()"))
