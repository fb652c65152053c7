"""Write a SavedModel as users' code writes it, for the tests: a process of its own, since
TF2's behaviour can't be turned on in the tests' process (it has run TF1 graphs).

    python tests/savedmodels.py KIND FOLDER

KIND: `module`, a tf.Module of two variables with a serving signature; `with_optimizer`, a
trained Keras model and its Adam optimizer, saved by tf.saved_model.save; `keras_export`,
the same model's `model.export()`; `keras2_legacy_optimizer`, a Keras 2 (tf_keras) model's
`model.save` with its legacy Adam optimizer; `tf1_builder` and `tf1_main_op`, a TF1 graph's trained
dense layer (reference variables, as TF 1.x made them) written by saved_model.Builder, without
an init op and with main_op(), which runs the initializers on load; `tf1_resource_variables`,
the first with resource variables; `keras_lookup`, a Keras
model of words with a lookup table, and `keras_vocabulary_file`, the same with its vocabulary
in a file, an asset of the SavedModel; `tf1_vocabulary_file`, a TF1 graph's table of a
vocabulary file. Seeded: the same kind gives the same values."""

import argparse
import contextlib
import tempfile
from pathlib import Path


def module(folder):
    import tensorflow as tf

    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(tf.random.stateless_uniform([3, 2], [1, 2]), name="kernel")
            self.bias = tf.Variable(tf.zeros([2]), name="bias")

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.matmul(x, self.kernel) + self.bias}

    model = Dense()
    tf.saved_model.save(model, folder, signatures={"serving_default": model.serve})


def keras_network(width=5):
    """A small Keras model: a hidden layer `width` wide, reshaped and flattened again as a
    convolutional network's head flattens (the shape a Flatten packs is known only from the
    batch), then 3 outputs."""
    import keras

    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(width, activation="relu", name="hidden")(inputs)
    flat = keras.layers.Flatten()(keras.layers.Reshape((width, 1))(hidden))
    return keras.Model(inputs, keras.layers.Dense(3, name="out")(flat))


def trained_keras_model():
    import keras
    import numpy as np

    keras.utils.set_random_seed(1)
    model = keras_network()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 3)), epochs=2, verbose=0)
    return model


def with_optimizer(folder):
    import tensorflow as tf

    class Trained(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model, self.optimizer = model, model.optimizer

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            return {"y": self.model(x)}

    trained = Trained(trained_keras_model())
    tf.saved_model.save(trained, folder, signatures={"serving_default": trained.serve})


def keras_export(folder):
    trained_keras_model().export(folder, verbose=False)


def keras2_legacy_optimizer(folder):
    """What Keras 2 (tf_keras) wrote, as published SavedModels of TF 2.x's first years: a
    trained model with its legacy Adam optimizer (an OptimizerV2, which TensorFlow loads only
    with Keras 2), by model.save."""
    import numpy as np
    import tf_keras

    tf_keras.utils.set_random_seed(1)
    model = tf_keras.Sequential(
        [
            tf_keras.layers.Dense(5, activation="relu", input_shape=(4,), name="hidden"),
            tf_keras.layers.Dense(3, name="out"),
        ]
    )
    model.compile(optimizer=tf_keras.optimizers.legacy.Adam(), loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 3)), epochs=2, verbose=0)
    model.save(folder)


def tf1_builder(folder, init_op=None, resource=False):
    """Reference variables, as TF 1.x made them by default, or resource ones."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(3)
        kernel = v1.get_variable("dense/kernel", [3, 2], use_resource=resource)
        zeros = v1.zeros_initializer()
        bias = v1.get_variable("dense/bias", [2], initializer=zeros, use_resource=resource)
        inputs = v1.placeholder(tf.float32, [None, 3], name="x")
        signature = v1.saved_model.predict_signature_def(
            {"x": inputs}, {"y": tf.matmul(inputs, kernel) + bias}
        )
        built_by_builder(folder, kernel, signature, main_op=init_op() if init_op else None)


def built_by_builder(folder, kernel, signature, **written):
    """The default graph's trained model (`kernel` moved off its initial values) with its
    serving `signature`, written by saved_model.Builder, given `written` (its init op...)."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with v1.Session() as sess:
        sess.run(v1.global_variables_initializer())
        sess.run(kernel.assign_add(tf.ones(kernel.shape)))
        builder = v1.saved_model.Builder(folder)
        builder.add_meta_graph_and_variables(
            sess,
            [v1.saved_model.tag_constants.SERVING],
            signature_def_map={"serving_default": signature},
            **written,
        )
        builder.save()


def tf1_parsing_examples(folder, default=True):
    """An Estimator's serving signature: serialized tf.Examples in, parsed (its feature with a
    default value, or required), then the model."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(3)
        kernel = v1.get_variable("dense/kernel", [3, 2])
        examples = v1.placeholder(tf.string, [None], name="input_example_tensor")
        feature = tf.io.FixedLenFeature(
            [3], tf.float32, default_value=[0.5] * 3 if default else None
        )
        parsed = tf.io.parse_example(examples, {"x": feature})
        signature = v1.saved_model.predict_signature_def(
            {"examples": examples}, {"y": tf.matmul(parsed["x"], kernel)}
        )
        built_by_builder(folder, kernel, signature)


def tf1_main_op(folder):
    import tensorflow as tf

    tf1_builder(folder, init_op=tf.compat.v1.saved_model.main_op.main_op)


def tf1_resource_variables(folder):
    tf1_builder(folder, resource=True)


# The words a model of words knows, and the one the batch the signatures run on holds.
VOCABULARY = ["a", "b", "c"]


def keras_lookup(folder, vocabulary=VOCABULARY):
    """A Keras model of words: a StringLookup (a lookup table) of `vocabulary`, inline or a
    file's path, then a dense layer, by model.export()."""
    import keras

    keras.utils.set_random_seed(1)
    words = keras.Input((1,), dtype="string", name="words")
    ids = keras.layers.StringLookup(vocabulary=vocabulary, name="lookup")(words)
    dense = keras.layers.Dense(2, name="out")(keras.ops.cast(ids, "float32"))
    keras.Model(words, dense).export(folder, verbose=False)


@contextlib.contextmanager
def vocabulary_file(words):
    """The path of a file of `words`, a line each, deleted after: a SavedModel's writer copies
    it into its `assets` folder."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "vocabulary.txt"
        path.write_text("".join(f"{word}\n" for word in words))
        yield str(path)


def keras_vocabulary_file(folder):
    """The same model, its vocabulary read from a file."""
    with vocabulary_file(VOCABULARY) as path:
        keras_lookup(folder, path)


def tf1_vocabulary_file(folder):
    """A TF1 graph's table of a vocabulary file (an asset, as TF 1.x listed it: in a
    collection) whose line numbers a dense kernel multiplies, its init op the tables'
    initializer, by saved_model.Builder. The batch's word is the last line: its number is not
    0, so the output shows the kernel."""
    import tensorflow as tf

    v1 = tf.compat.v1
    with vocabulary_file(VOCABULARY[1:] + VOCABULARY[:1]) as path, tf.Graph().as_default():
        v1.set_random_seed(3)
        kernel = v1.get_variable("dense/kernel", [1, 2], use_resource=False)
        words = v1.placeholder(tf.string, [None], name="words")
        vocabulary = tf.constant(path, name="vocabulary")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, vocabulary)
        lines = v1.lookup.TextFileInitializer(
            vocabulary,
            tf.string,
            v1.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            v1.lookup.TextFileIndex.LINE_NUMBER,
        )
        ids = v1.lookup.StaticHashTable(lines, -1).lookup(words)
        outputs = {"y": tf.matmul(tf.cast(tf.reshape(ids, [-1, 1]), tf.float32), kernel)}
        signature = v1.saved_model.predict_signature_def({"words": words}, outputs)
        built_by_builder(
            folder,
            kernel,
            signature,
            assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
            main_op=v1.tables_initializer(),
        )


WRITERS = {
    "module": module,
    "with_optimizer": with_optimizer,
    "keras_export": keras_export,
    "keras2_legacy_optimizer": keras2_legacy_optimizer,
    "tf1_builder": tf1_builder,
    "tf1_main_op": tf1_main_op,
    "tf1_resource_variables": tf1_resource_variables,
    "keras_lookup": keras_lookup,
    "keras_vocabulary_file": keras_vocabulary_file,
    "tf1_vocabulary_file": tf1_vocabulary_file,
}
KINDS = tuple(WRITERS)


# What each load's run of each kind's serving signature gives (load_savedmodel's
# inference.json), against the first load that restored every variable: `equal` bit for bit,
# `differs`, or `uninitialized` (it reads a variable the load left uninitialized). TF1's
# loader.load restores a tf.saved_model.save folder's variables, but the signature of one that
# holds its model in an attribute of a tf.Module reads variables of its own, which no restore
# reaches.
SIGNATURE_TF2 = {
    "loader_load": "equal",
    "loader_load_then_init": "equal",
    "load_v2_restore": "uninitialized",
    "load_v2_global_init": "equal",
    "load_v2_eager": "equal",
}
SIGNATURE_TABLE = {
    **SIGNATURE_TF2,
    "load_v2_global_init": "FailedPreconditionError: Table not initialized.",
}
SIGNATURE_RUNS_TF1 = {
    "loader_load": "equal",
    "loader_load_then_init": "differs",
    "load_v2_restore": "equal",
    "load_v2_global_init": "uninitialized",
    "load_v2_eager": "equal",
}
SIGNATURE_RUNS = {
    "module": SIGNATURE_TF2,
    "with_optimizer": {
        **SIGNATURE_TF2,
        "loader_load": "uninitialized",
        "loader_load_then_init": "uninitialized",
    },
    "keras_export": SIGNATURE_TF2,
    "keras2_legacy_optimizer": SIGNATURE_TF2,
    # In graph mode, global_variables_initializer() restores the variables, not the table.
    "keras_lookup": SIGNATURE_TABLE,
    "keras_vocabulary_file": SIGNATURE_TABLE,
    # Its table is initialised by its init op, which graph mode's tf.saved_model.load does
    # not run.
    "tf1_vocabulary_file": {
        **SIGNATURE_RUNS_TF1,
        "load_v2_restore": "FailedPreconditionError: Table not initialized.",
    },
    "tf1_builder": SIGNATURE_RUNS_TF1,
    "tf1_resource_variables": {**SIGNATURE_RUNS_TF1, "load_v2_global_init": "equal"},
    "tf1_main_op": {
        "loader_load": "differs",
        "loader_load_then_init": "differs",
        "load_v2_restore": "equal",
        "load_v2_global_init": "uninitialized",
        "load_v2_eager": "differs",
    },
}


def signature_outcome(error, bit_equal):
    """A signature's run as SIGNATURE_RUNS names it, or its error."""
    from ckptorder.inference import UNINITIALIZED_READ  # TF1's behaviour: not for writers

    if error == UNINITIALIZED_READ:
        return "uninitialized"
    return error or ("equal" if bit_equal else "differs")


def run_writer(description, writers, target, argv=None):
    """The command line of a writer of tests' files: KIND TARGET; returns what the writer of
    KIND returns, given TARGET (`target` says what it is)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=tuple(writers))
    parser.add_argument("target", help=target)
    args = parser.parse_args(argv)
    return writers[args.kind](args.target)


if __name__ == "__main__":
    run_writer(__doc__, WRITERS, "the SavedModel's folder to write (must not exist)")
