"""Build the seed's network, train it a few steps, and save it as a TF1 checkpoint.

Writes the checkpoint: `PREFIX.index`, `PREFIX.data-00000-of-00001`, `PREFIX.meta` and the
`checkpoint` state file beside them; and `--inference`, a fixed input batch and the network's
output on it right before saving, which every loaded model's output is compared with.
"""

import argparse

from ckptorder.cli import (
    add_settings_argument,
    add_time_limit_argument,
    exit_skipping_teardown,
    fail,
    load_settings,
    start_logging,
    stop_after,
)

SETTINGS = {
    "seed": "graph seed and synthetic data seed",
    "steps": "SGD steps before saving",
    "learning_rate": "SGD learning rate",
    "batch_size": "synthetic examples per step",
    "threads": "training's intra- and inter-op thread count (it changes the bytes)",
    "extra_layers": "filter counts of conv layers added after conv_3",
    "tensorflow": "TensorFlow's version (not read: a change of it reruns build)",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    add_settings_argument(parser, SETTINGS)
    parser.add_argument("--checkpoint", required=True, help="checkpoint prefix to write")
    parser.add_argument("--inference", required=True, help="values file of input and output")
    add_time_limit_argument(parser)
    args = parser.parse_args(argv)
    start_logging("build")
    stop_after(args.time_limit, "build")
    try:
        settings = load_settings(args.settings, SETTINGS)
        from ckptorder import building  # TensorFlow, imported once the arguments are checked

        building.build_and_save(settings, args.checkpoint, args.inference)
    except ValueError as error:
        fail(str(error))


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
