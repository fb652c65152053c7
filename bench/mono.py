"""The pipeline's work in one Python process, for the benchmark: what a user could write
instead of the workflow. The same steps with the settings the Snakefile gives them, for the
default config's built model in every format, no Snakemake and one process (but for the
steps of TF2's object-based checkpoint: two processes more).

    python bench/mono.py OUTPUT_DIR
"""

import subprocess
import sys
from pathlib import Path

import pandas as pd

from commands import PROJECT  # first: it puts scripts/ on the path

# isort: split
import build
import export
import extract
import load
import report
import restore
from ckptorder import configuration, step_settings

OUTPUTS = ("report", "variables", "compatibility", "trajectory", "inference", "provenance")


def options(**values):
    return [arg for key, value in values.items() for arg in (f"--{key}", str(value))]


def audit_format(config, entry, prefix, inference, folder):
    """The values folder of one format of the built model: restore, or export then load."""
    if entry["format"] == "ckpt":
        settings = step_settings.restore_settings(entry)
        restore.main(
            options(settings=settings, checkpoint=prefix, inference=inference, output=folder)
        )
        return
    exported = folder.with_name(f"{entry['name']}.exported")
    # TF2's behaviour, which object_ckpt's steps need, can't be turned on in a process that
    # has run TF1 graphs: those two steps run in processes of their own.
    step = in_a_process if entry["format"] == "object_ckpt" else in_this_process
    settings = step_settings.export_settings(config, entry)
    step(export, options(settings=settings, checkpoint=prefix, output=exported))
    settings = step_settings.loading_settings(config, entry)
    step(
        load,
        options(
            settings=settings,
            exported=exported,
            checkpoint=prefix,
            inference=inference,
            output=folder,
        ),
    )


def in_this_process(script, arguments):
    script.main(arguments)


def in_a_process(script, arguments):
    subprocess.run([sys.executable, script.__file__, *arguments], check=True)


def main(out):
    config = configuration.load(PROJECT / "config.yaml")
    prefix, inference = out / "model.ckpt", out / "inference.npz"
    settings = step_settings.build_settings(config)
    build.main(options(settings=settings, checkpoint=prefix, inference=inference))
    values, slices = [], []
    for entry in config["checkpoints"]:
        values.append(out / "values" / entry["name"])
        slices.append(out / f"{entry['name']}.csv")
        audit_format(config, entry, prefix, inference, values[-1])
        settings = step_settings.extract_settings(entry)
        extract.main(options(settings=settings, values=values[-1], output=slices[-1]))
    outputs = {name: out / f"{name}.out" for name in OUTPUTS}
    report.main(
        [
            *options(settings=step_settings.report_settings(config), **outputs),
            *("--slices", *map(str, slices), "--values", *map(str, values)),
        ]
    )
    assert pd.read_csv(outputs["report"])["as_expected"].all()
    assert pd.read_csv(outputs["variables"])["as_expected"].all()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
