"""Write a TF2 checkpoint as users' code writes it, for the tests (a process of its own, as
savedmodels.py), and the functions a `checkpoints:` entry's `model: tests/tf2_checkpoints.py:
FUNCTION` names to build what to restore it into.

    python tests/tf2_checkpoints.py KIND PREFIX

KIND: `keras_with_optimizer`, a trained Keras model and its Adam optimizer saved by
tf.train.Checkpoint(model=..., optimizer=...).save(PREFIX); `module`, a tf.Module of two
variables, changed from their initial values, saved as tf.train.Checkpoint(net=module).
Seeded: the same kind gives the same values. Prints the prefix `save` wrote (PREFIX-1)."""

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


WRITERS = {"keras_with_optimizer": keras_with_optimizer, "module": module}
KINDS = tuple(WRITERS)


if __name__ == "__main__":
    print(run_writer(__doc__, WRITERS, "the checkpoint's prefix, as given to save()"))
