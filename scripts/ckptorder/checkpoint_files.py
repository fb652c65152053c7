"""The files of a TF1 checkpoint, named after the prefix TensorFlow is given."""

import glob
import os

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
