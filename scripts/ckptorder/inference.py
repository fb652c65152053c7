"""The inference check: the built network's output on a fixed batch after each ordering,
against its output right before saving (build's reference file: `input`, `output`). Written to
the values folder as `inference.json`: per state and output (the network's one: OUTPUT), the
largest absolute difference and whether the output is bit for bit the reference, or the error
that running it raised. A SavedModel's signatures are checked the same way (`signatures.py`)."""

import json
import os
from pathlib import Path

from ckptorder import network
from ckptorder.atomic import write_text
from ckptorder.tfgraph import failure
from ckptorder.tfsession import tf
from ckptorder.values import INFERENCE, Values, bitwise_equal, max_abs_diff

# The network's output, by its name in build's reference file.
OUTPUT = "output"
# What a check says where the output reads an uninitialized variable (which one TensorFlow
# names first varies from run to run).
UNINITIALIZED_READ = "FailedPreconditionError: it reads an uninitialized variable"


class Inference:
    def __init__(self, reference, output_tensor):
        with Values(reference) as values:
            self.batch, self.expected = values.read("input"), values.read(OUTPUT)
        self.output_tensor = output_tensor
        self.results = {}

    def feed(self):
        return {network.INPUT: self.batch}

    def run(self, state, sess, output, feed):
        """Run `output` with `feed` (None where the output holds the batch) and record it."""
        try:
            value = sess.run(output, feed)
        except tf.errors.FailedPreconditionError:
            self.failed(state, UNINITIALIZED_READ)
            return
        except tf.errors.OpError as error:
            self.failed(state, failure(error))
            return
        self.record(state, value)

    def record(self, state, value):
        """Record the output `value` of a state's network."""
        self.results[state] = compared(value, self.expected, "the saved model's")

    def failed(self, state, error):
        self.results[state] = failed_check(error)

    def write(self, folder):
        checks = {state: {OUTPUT: check} for state, check in self.results.items()}
        write_text(Path(folder) / INFERENCE, json.dumps(checks, sort_keys=True))


def compared(value, expected, whose):
    """The check of an output `value` against `expected` (`whose` output: words)."""
    if value.shape != expected.shape:
        return failed_check(f"the output's shape is {value.shape}, {whose} {expected.shape}")
    return {
        "max_abs_diff": max_abs_diff(value, expected),
        "bit_equal": bitwise_equal(value, expected),
        "error": "",
    }


def failed_check(error):
    return {"max_abs_diff": None, "bit_equal": False, "error": error}


def checked_inference(reference, output_tensor):
    """The check of `output_tensor` against the `reference` file, None where neither is given.
    Raises ValueError where one is given without the other."""
    if (reference is None) != (output_tensor is None):
        raise ValueError("--inference and the setting output_tensor go together: give both or none")
    if reference is None:
        return None
    if not os.path.isfile(reference):
        raise ValueError(f"{reference}: no such file (build's inference reference)")
    return Inference(reference, output_tensor)
