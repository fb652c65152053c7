"""The inference check: the built network's output on a fixed batch after each ordering,
against its output right before saving (build's reference file: `input`, `output`). Written to
the values folder as `inference.json`: per state, the largest absolute difference and whether
the output is bit for bit the reference, or the error that running it raised."""

import json
import os
from pathlib import Path

from ckptorder import network
from ckptorder.atomic import write_text
from ckptorder.tfgraph import failure
from ckptorder.tfsession import tf
from ckptorder.values import INFERENCE, Values, bitwise_equal, max_abs_diff


class Inference:
    def __init__(self, reference, output_tensor):
        with Values(reference) as values:
            self.batch, self.expected = values.read("input"), values.read("output")
        self.output_tensor = output_tensor
        self.results = {}

    def feed(self):
        return {network.INPUT: self.batch}

    def run(self, state, sess, output, feed):
        """Run `output` with `feed` (None where the output holds the batch) and record it."""
        try:
            value = sess.run(output, feed)
        except tf.errors.FailedPreconditionError:
            # Which uninitialized variable TensorFlow names first varies from run to run.
            self.failed(state, "FailedPreconditionError: it reads an uninitialized variable")
            return
        except tf.errors.OpError as error:
            self.failed(state, failure(error))
            return
        self.record(state, value)

    def record(self, state, value):
        """Record the output `value` of a state's network."""
        if value.shape != self.expected.shape:
            shapes = f"{value.shape}, the saved model's {self.expected.shape}"
            self.failed(state, f"the output's shape is {shapes}")
            return
        self.results[state] = {
            "max_abs_diff": max_abs_diff(value, self.expected),
            "bit_equal": bitwise_equal(value, self.expected),
            "error": "",
        }

    def failed(self, state, error):
        self.results[state] = {"max_abs_diff": None, "bit_equal": False, "error": error}

    def write(self, folder):
        write_text(Path(folder) / INFERENCE, json.dumps(self.results, sort_keys=True))


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
