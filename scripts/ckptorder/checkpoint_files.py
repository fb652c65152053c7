"""The files of a TF1 checkpoint, named after the prefix TensorFlow is given (one data shard)."""

DATA_SUFFIX = ".data-00000-of-00001"
SUFFIXES = (".index", DATA_SUFFIX, ".meta")
