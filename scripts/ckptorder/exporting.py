"""export's TensorFlow work: the built checkpoint written in another format, once per variant
(`formats.savedmodel`, `formats.frozen_pb`), each from a fresh graph of its `.meta` file and a
session that restored it. Imported by export.py once its arguments are checked."""

import logging

from ckptorder import network, orderings, tfgraph
from ckptorder.tfsession import session, tf


def export_savedmodel(prefix, graph_path, settings, threads, folder):
    """Write every variant of the SavedModel format into `folder`: a folder each."""
    export(prefix, graph_path, settings, threads, folder, savedmodel_writer)


def export_frozen(prefix, graph_path, settings, threads, folder):
    """Write every variant of the frozen GraphDef format into `folder`: a `.pb` file each."""
    export(prefix, graph_path, settings, threads, folder, frozen_writer)


def export(prefix, graph_path, settings, threads, folder, writer):
    """Write every variant of the settings' format of the checkpoint `prefix` into `folder`
    with `writer`, each named after the variant. Raises ValueError for a graph the guard
    refuses (what the variants import of it: `tfgraph.checked_graph`), unless trusted."""
    format_ = settings["format"]
    extra_layers = settings["extra_layers"]
    # The signature's forward pass is imported, not run: its sizes are checked per example.
    meta_graph = tfgraph.checked_graph(
        graph_path,
        settings["trust"],
        tfgraph.checkpoint_keys(prefix),
        outputs=[network.output_tensor(extra_layers)],
        batch_shape=(1, *network.INPUT_SHAPE[1:]),
    )
    for variant, written in orderings.FORMATS[format_].variants.items():
        graph = tf.Graph()
        with graph.as_default():
            saver = tfgraph.import_meta_graph(meta_graph, graph_path)
            write = writer(graph, saver, variant, written.steps, extra_layers)
            with session(graph, threads) as sess:
                with tfgraph.checkpoint_errors(prefix):
                    saver.restore(sess, prefix)
                write(sess, folder)
        logging.info("wrote %s %s", format_, variant)


def savedmodel_writer(graph, saver, variant, steps, extra_layers):
    """An action that writes the SavedModel of `variant` from a session holding the trained
    weights: serving tag, a signature from the input to the network's output, the init op
    that runs the variant's `steps`: none, main_op() where they initialise,
    main_op_with_restore(the Saver's restore) where they also restore."""
    signature = tf.compat.v1.saved_model.predict_signature_def(
        {"input": graph.get_tensor_by_name(network.INPUT)},
        {"output": graph.get_tensor_by_name(network.output_tensor(extra_layers))},
    )
    init_op = None
    if "restore_saver_default_file" in steps:
        # Its documented argument, the restore op's name, raises TypeError: it takes the op.
        restore = graph.get_operation_by_name(saver.saver_def.restore_op_name)
        init_op = tf.compat.v1.saved_model.main_op.main_op_with_restore(restore)
    elif "initialize_all" in steps:
        init_op = tf.compat.v1.saved_model.main_op.main_op()

    def write(sess, folder):
        builder = tf.compat.v1.saved_model.Builder(str(folder / variant))
        builder.add_meta_graph_and_variables(
            sess, tfgraph.SERVE, signature_def_map={tfgraph.SIGNATURE: signature}, main_op=init_op
        )
        builder.save()

    return write


def frozen_writer(graph, saver, variant, steps, extra_layers):
    """An action that runs the variant's `steps` after the restore, then folds the variables into
    constants and writes the GraphDef of the network's output."""
    initialize = tf.compat.v1.global_variables_initializer()
    output = network.output_tensor(extra_layers).split(":")[0]

    def write(sess, folder):
        if "initialize_all" in steps:
            sess.run(initialize)
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), [output]
        )
        (folder / f"{variant}.pb").write_bytes(frozen.SerializeToString(deterministic=True))

    return write
