"""The files of a TF1 checkpoint, named after the prefix TensorFlow is given, and the
checkpoints a training run's folder lists in its `checkpoint` state file."""

import glob
import os
import re

# What build writes: one data shard.
DATA_SUFFIX = ".data-00000-of-00001"
SUFFIXES = (".index", DATA_SUFFIX, ".meta")


def data_files(prefix):
    """The data shards beside a checkpoint's index, sorted (`PREFIX.data-K-of-N`)."""
    return sorted(glob.glob(f"{glob.escape(prefix)}.data-[0-9]*-of-[0-9]*"))


def missing_files(prefix, graph):
    """The files of the checkpoint `prefix` and of its `graph` (a .meta file) that are not
    on disk: its index, at least one data shard, the graph."""
    missing = [path for path in (f"{prefix}.index", graph) if not os.path.isfile(path)]
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
