"""The files of a TF1 checkpoint, named after the prefix TensorFlow is given, and the
checkpoints a training run's folder lists in its `checkpoint` state file."""

import contextlib
import glob
import os
import re
import tempfile

# What build writes: one data shard.
DATA_SUFFIX = ".data-00000-of-00001"
SUFFIXES = (".index", DATA_SUFFIX, ".meta")


def data_files(prefix):
    """The data shards beside a checkpoint's index, sorted (`PREFIX.data-K-of-N`)."""
    return sorted(glob.glob(f"{glob.escape(prefix)}.data-[0-9]*-of-[0-9]*"))


def missing_files(prefix, graph):
    """The files of the checkpoint `prefix` and of its `graph` (a .meta file; None for a TF2
    checkpoint, which has none) that are not on disk: its index, at least one data shard, the
    graph."""
    paths = [f"{prefix}.index", *([graph] if graph is not None else [])]
    missing = [path for path in paths if not os.path.isfile(path)]
    if not data_files(prefix):
        missing.append(f"{prefix}.data-*-of-*")
    return missing


def require_files(prefix, graph, folders=()):
    """Raises ValueError listing what `missing_files` finds missing, and the `folders` that
    are not folders."""
    missing = missing_files(prefix, graph) + [f for f in folders if not os.path.isdir(f)]
    if missing:
        raise ValueError(f"checkpoint file(s) missing: {', '.join(missing)}")


STATE_FILE = "checkpoint"
# What names a SavedModel's folder: its graph.
SAVED_MODEL_FILE = "saved_model.pb"
# The key tf.train.Checkpoint keeps its object graph under.
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
# What an entry takes, said where it names another kind of file.
TAKES = (
    "an entry takes a TF1 Saver checkpoint (a prefix with its .index, .data and .meta files, or"
    " a training run's folder), a TF2 checkpoint's prefix or a SavedModel's folder"
)
# A SavedModel's variables, under its folder.
SAVED_MODEL_VARIABLES = os.path.join("variables", "variables")


def other_kind(prefix, graph):
    """What `prefix` or its `graph` is where it is a part of a SavedModel, which an entry does
    not take alone (its graph or its variables), else None."""
    folder = os.path.dirname(os.path.dirname(prefix))
    if prefix.endswith(SAVED_MODEL_VARIABLES) and is_savedmodel_folder(folder):
        return f"{prefix} is a SavedModel's variables: give its folder, {folder}, as prefix"
    if os.path.basename(graph) == SAVED_MODEL_FILE:
        return f"{graph} is a SavedModel's graph, not a Saver's .meta file"
    return None


def has_object_graph(index):
    """Whether the checkpoint index file `index` exists and holds a TF2 object graph."""
    if not os.path.isfile(index):
        return False
    # A bundle's index is uncompressed and stores each key after the part it shares with the
    # key before: the key's tail shows whole.
    with open(index, "rb") as handle:
        return OBJECT_GRAPH_KEY[1:].encode() in handle.read()


def is_savedmodel_folder(path):
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def savedmodel_kind(folder):
    """`tf2` for a SavedModel whose variables hold an object graph (tf.saved_model.save, Keras's
    export), else `tf1` (saved_model.Builder). Raises ValueError for one without variables."""
    index = os.path.join(folder, f"{SAVED_MODEL_VARIABLES}.index")
    if not os.path.isfile(index):
        raise ValueError(
            f"{folder} is a SavedModel without variables ({index}): nothing to restore"
        )
    return "tf2" if has_object_graph(index) else "tf1"


def listed_checkpoints(folder):
    """(step, prefix) of every checkpoint a training run's `checkpoint` state file lists, in
    its order (oldest first); the step is the prefix's `-N` suffix (Saver's global_step), else
    the checkpoint's position. Each is read from `folder` under its file name: a Saver without
    `save_relative_paths` lists absolute paths of the machine that trained, which are wrong
    once the folder is copied, and a state file then never points outside its folder.
    Raises ValueError for a folder without a state file."""
    state = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(state):
        raise ValueError(f"{folder} is a folder without a {STATE_FILE!r} state file")
    with open(state, encoding="utf-8") as handle:
        text = handle.read()
    paths = re.findall(r'^all_model_checkpoint_paths:\s*"(.*)"\s*$', text, re.M) or re.findall(
        r'^model_checkpoint_path:\s*"(.*)"\s*$', text, re.M
    )
    if not paths:
        raise ValueError(f"{state}: lists no checkpoint")
    listed = []
    for position, path in enumerate(paths):
        step = re.search(r"-(\d+)$", path)
        listed.append(
            (int(step.group(1)) if step else position, os.path.join(folder, os.path.basename(path)))
        )
    return listed


def is_run_folder(path):
    """Whether `path` is a training run's folder rather than a prefix: a folder, unless it
    holds a checkpoint of an empty file name and no state file (`folder/.index`, as
    `saver.save(sess, "folder/")` writes: its prefix is `folder/`)."""
    if not os.path.isdir(path):
        return False
    named_empty = os.path.isfile(os.path.join(path, ".index"))
    return not named_empty or os.path.isfile(os.path.join(path, STATE_FILE))


@contextlib.contextmanager
def named_prefix(prefix):
    """`prefix`, or, where its file name is empty (`folder/`), a named prefix whose files are
    links to its own, in a temporary folder: given a prefix that names a folder,
    init_from_checkpoint reads that folder's state file instead, whose paths may be another
    machine's."""
    if os.path.basename(prefix):
        yield prefix
        return
    with tempfile.TemporaryDirectory(prefix="named-prefix-") as folder:
        named = os.path.join(folder, "model")
        for path in [f"{prefix}.index", *data_files(prefix)]:
            os.symlink(os.path.abspath(path), named + path[len(prefix) :])
        yield named
