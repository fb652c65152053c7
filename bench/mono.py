"""The pipeline's work in one Python process, for the benchmark: what a user could write
instead of the workflow. The same steps with the settings the Snakefile gives them, for the
config's one built checkpoint, no Snakemake and one process.

    python bench/mono.py OUTPUT_DIR
"""

import sys
from pathlib import Path

import pandas as pd

from commands import PROJECT  # first: it puts scripts/ on the path

# isort: split
import build
import extract
import report
import restore
from ckptorder import configuration


def main(out):
    config = configuration.load(PROJECT / "config.yaml")
    (entry,) = config["checkpoints"]
    prefix, values, slices = str(out / "model.ckpt"), str(out / "values"), str(out / "slices.csv")
    build.main(["--settings", configuration.build_settings(config), "--checkpoint", prefix])
    settings = configuration.restore_settings(entry)
    restore.main(["--settings", settings, "--checkpoint", prefix, "--output", values])
    settings = configuration.extract_settings(entry)
    extract.main(["--settings", settings, "--values", values, "--output", slices])
    names = ("report", "variables", "compatibility", "trajectory", "provenance")
    outputs = {name: str(out / f"{name}.out") for name in names}
    report.main(
        [
            "--settings",
            configuration.report_settings(config),
            "--slices",
            slices,
            "--values",
            values,
            *(arg for name, path in outputs.items() for arg in (f"--{name}", path)),
        ]
    )
    assert pd.read_csv(outputs["report"])["as_expected"].all()
    assert pd.read_csv(outputs["variables"])["as_expected"].all()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
