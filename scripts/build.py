"""Build the seed's network, train it a few steps, and save it as a TF1 checkpoint.

Writes the checkpoint: `PREFIX.index`, `PREFIX.data-00000-of-00001`, `PREFIX.meta` and the
`checkpoint` state file beside them; and `--inference`, a fixed input batch and the network's
output on it right before saving, which every loaded model's output is compared with.
"""

from ckptorder.cli import exit_skipping_teardown, load_settings, one_line_errors, step_arguments
from ckptorder.step_settings import BuildSettings


def main(argv=None):
    options = [
        ("--checkpoint", "checkpoint prefix to write"),
        ("--inference", "values file of input and output"),
    ]
    args = step_arguments("build", __doc__, argv, options, BuildSettings, time_limit=True)
    with one_line_errors():
        settings = load_settings(args.settings, BuildSettings)
        from ckptorder import building  # TensorFlow, imported once the arguments are checked

        building.build_and_save(settings, args.checkpoint, args.inference)


if __name__ == "__main__":
    main()
    exit_skipping_teardown()
