"""TensorFlow set-up shared by the steps that run it: the TF1 graph API, CPU only, and its
start-up messages kept out of the terminal and the logs. The package imports TensorFlow, and
any of its modules, through this one, so that the set-up comes first.

TensorFlow's messages below errors are hidden unless TF_CPP_MIN_LOG_LEVEL is 0 (TensorFlow's
own setting: 0 shows everything); what goes wrong is raised as an exception either way.
"""

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from ckptorder.checkpoint_files import OBJECT_GRAPH_KEY

SHOW_TENSORFLOW_MESSAGES = os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's kernels keep the memory of freed tensors: with them a restore job of a 1 GiB
# checkpoint peaks at 3.4x the checkpoint's size, without them at 2.5x.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# TensorFlow imports Keras' optimizers eagerly (about 0.9 s of CPU) and skips them when they
# cannot be imported; nothing here uses Keras, so they are marked as not importable (until a
# user's model is loaded: `allow_keras`).
KERAS_OPTIMIZERS = "keras.src.optimizers"
sys.modules.setdefault(KERAS_OPTIMIZERS, None)


def allow_keras():
    """Let Keras be imported whole: a user's model may be a Keras one."""
    if KERAS_OPTIMIZERS in sys.modules and sys.modules[KERAS_OPTIMIZERS] is None:
        del sys.modules[KERAS_OPTIMIZERS]


@contextlib.contextmanager
def native_stderr_held():
    """Keep what the process writes to file descriptor 2 (the notices absl prints before its
    logging is set up, which TF_CPP_MIN_LOG_LEVEL does not reach); write it out only if the
    block raises."""
    sys.stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            held.seek(0)
            os.write(terminal, held.read())
            raise
        finally:
            os.dup2(terminal, 2)
            os.close(terminal)


def start_up_messages_held():
    """`native_stderr_held`, unless TensorFlow's messages are asked for."""
    return contextlib.nullcontext() if SHOW_TENSORFLOW_MESSAGES else native_stderr_held()


with start_up_messages_held():
    import tensorflow as tf
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework.variable_pb2 import VariableDef
    from tensorflow.core.protobuf.meta_graph_pb2 import AssetFileDef
    from tensorflow.core.protobuf.saved_model_pb2 import SavedModel
    from tensorflow.core.protobuf.trackable_object_graph_pb2 import TrackableObjectGraph
    from tensorflow.python.checkpoint.checkpoint import _NameBasedRestoreCoordinator
    from tensorflow.python.framework import op_def_registry
    from tensorflow.python.ops.resource_variable_ops import get_eager_safe_handle_data

if not SHOW_TENSORFLOW_MESSAGES:
    tf.get_logger().setLevel("ERROR")
    # TF2's checkpoint code logs through absl (e.g. each save's "Sharding callback duration").
    logging.getLogger("absl").setLevel("ERROR")
tf.compat.v1.disable_v2_behavior()


def is_variable(tensor):
    """Whether `tensor` is a variable's handle, in a graph or eager: its handle data (what
    TensorFlow's own variables read their dtype and shape from) holds a value's type, which a
    table's lacks."""
    if tensor.dtype != tf.resource:
        return False
    handle_data = get_eager_safe_handle_data(tensor)
    return handle_data is not None and handle_data.is_set and bool(handle_data.shape_and_type)


def use_tf2_behavior(threads):
    """TensorFlow 2's behaviour (eager execution, resource variables) for this process, for the
    steps on TF2's object-based checkpoints: before any graph is used. Its eager context gets
    `threads` threads per pool and no GPU (probing for CUDA only logs an error)."""
    tf.compat.v1.enable_v2_behavior()
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    with start_up_messages_held():
        tf.config.set_visible_devices([], "GPU")


def session(graph, threads, rewrite=True):
    """A CPU session on `graph` whose intra- and inter-op pools hold `threads` threads (no
    GPU: the results are CPU results, and probing for CUDA only logs an error). TensorFlow
    sizes a process's CPU thread pool at its first session, and a convolution's bits depend
    on it: a process (a test session too) makes every session here. `rewrite`: Grappler's
    graph rewrites, which a session runs on the graph each time it prepares a new set of
    fetches. They may fuse a network's ops, which changes a convolution's bits; on a graph
    that only restores, assigns and reads they change nothing and cost time (a third of a
    1,500-variable checkpoint's restore job: bench/README.md)."""
    config = tf.compat.v1.ConfigProto(
        device_count={"GPU": 0},
        intra_op_parallelism_threads=threads,
        inter_op_parallelism_threads=threads,
    )
    config.graph_options.rewrite_options.disable_meta_optimizer = not rewrite
    return tf.compat.v1.Session(graph=graph, config=config)


def variable_values(sess):
    """(name, value) of every global variable, fetched one at a time to hold one copy at most."""
    for variable in tf.compat.v1.global_variables():
        yield variable.op.name, sess.run(variable)


def variable_defs(meta_graph, collection="variables"):
    """The VariableDef of every variable a MetaGraphDef's `collection` lists (by default the
    global variables), read without importing its graph."""
    for serialized in meta_graph.collection_def[collection].bytes_list.value:
        variable = VariableDef()
        variable.ParseFromString(serialized)
        yield variable


# Where a TF1 SavedModel lists its assets, where its meta graph's asset_file_def does not.
ASSETS_COLLECTION = "saved_model_assets"


def asset_file_defs(meta_graph):
    """A SavedModel's assets (AssetFileDef: the tensor its loader feeds an asset's path to,
    and the file's name in its `assets` folder), where TF1's loader.load reads them: the meta
    graph's asset_file_def, else ASSETS_COLLECTION."""
    if meta_graph.asset_file_def or ASSETS_COLLECTION not in meta_graph.collection_def:
        return list(meta_graph.asset_file_def)
    found = []
    for packed in meta_graph.collection_def[ASSETS_COLLECTION].any_list.value:
        asset = AssetFileDef()
        packed.Unpack(asset)
        found.append(asset)
    return found


def op_def(op):
    """The definition TensorFlow registers for the op type `op`, or None."""
    return op_def_registry.get(op)


# The tag set a SavedModel's loaders are asked for where it holds several meta graphs.
SERVE_TAGS = ("serve",)


def saved_meta_graph(folder, tags=None):
    """The MetaGraphDef of a SavedModel folder that its loaders load given `tags`, read
    without loading it: the first of that tag set, as TensorFlow's loaders pick it; with no
    `tags`, the first tagged SERVE_TAGS, else the only one (loaded by its own tags:
    `loader_tags`). Raises ValueError for a file that is no SavedModel, and for one with no
    meta graph of those tags, or several and none tagged SERVE_TAGS."""
    path = Path(folder) / "saved_model.pb"
    saved_model = SavedModel()
    try:
        saved_model.ParseFromString(path.read_bytes())
    except DecodeError:
        raise ValueError(f"{path}: not a SavedModel (damaged, truncated or another file)") from None
    graphs = saved_model.meta_graphs
    for meta_graph in graphs:
        if set(meta_graph.meta_info_def.tags) == set(tags or SERVE_TAGS):
            return meta_graph
    if len(graphs) == 1 and not tags:
        return graphs[0]
    found = "; ".join(",".join(m.meta_info_def.tags) or "no tag" for m in graphs)
    if not graphs:
        raise ValueError(f"{path}: it holds no meta graph")
    if tags:
        raise ValueError(
            f"{path}: no meta graph tagged {','.join(tags)}, the entry's tags (its tag sets:"
            f" {found})"
        )
    raise ValueError(
        f"{path}: {len(graphs)} meta graphs and none tagged {','.join(SERVE_TAGS)}: give the"
        f" entry's tags, the tag set of the one to load (its tag sets: {found})"
    )


def loader_tags(meta_graph):
    """The tags a loader is given to load `meta_graph` (`saved_meta_graph`'s)."""
    return list(meta_graph.meta_info_def.tags)


def checkpoint_object_graph(reader, prefix):
    """The TrackableObjectGraph the TF2 checkpoint `prefix` holds (read by `reader`). Raises
    ValueError where it is damaged or cut short."""
    graph = TrackableObjectGraph()
    try:
        graph.ParseFromString(reader.get_tensor(OBJECT_GRAPH_KEY))
    except DecodeError:
        raise ValueError(f"{prefix}: its object graph is damaged") from None
    except IndexError:  # what the reader raises for a data file cut short
        raise ValueError(f"{prefix}: its object graph is cut short (a truncated file)") from None
    nodes = len(graph.nodes)
    if not nodes or any(c.node_id >= nodes for n in graph.nodes for c in n.children):
        raise ValueError(f"{prefix}: its object graph is damaged (a child that is no node)")
    return graph


def name_based_keys(prefix):
    """A function giving the keys a name-based restore of the TF1 checkpoint `prefix` reads
    into an object's attributes, as TensorFlow names them (its own class; no public API
    tells)."""
    coordinator = _NameBasedRestoreCoordinator(prefix)
    return lambda obj: [
        spec.name
        for saveable in coordinator.globally_named_object_attributes(obj)
        for spec in saveable.specs
    ]
