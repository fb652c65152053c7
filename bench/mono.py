"""The pipeline's work in one Python process, for the benchmark: what a user could write
instead of the workflow. The same steps with the settings the Snakefile gives them, no
Snakemake and no process per ordering.

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
from ckptorder import configuration, orderings


def main(out):
    config = configuration.load(PROJECT / "config.yaml")
    states = orderings.states(config["orderings"])
    values = {state: str(out / f"{state}.npz") for state in states}
    slices = {state: str(out / f"{state}.csv") for state in states}
    prefix = str(out / "model.ckpt")
    references = ["--saved", values["saved"], "--initial", values["initial"]]
    checkpoint = ["--checkpoint", prefix]
    settings = ["--settings", configuration.build_settings(config)]
    build.main([*settings, *checkpoint, "--initial", values["initial"], "--saved", values["saved"]])
    for ordering in config["orderings"]:
        settings = ["--settings", configuration.restore_settings(config, ordering)]
        restore.main([*settings, *checkpoint, *references, "--output", values[ordering]])
    for state in states:
        settings = ["--settings", configuration.extract_settings(config)]
        given = ["--state", state, "--values", values[state], *references, *settings]
        extract.main([*given, "--output", slices[state]])
    outputs = {name: str(out / f"{name}.out") for name in ("report", "variables", "provenance")}
    report.main(
        [
            "--settings",
            configuration.report_settings(config),
            "--slices",
            *slices.values(),
            "--values",
            *values.values(),
            *(arg for name, path in outputs.items() for arg in (f"--{name}", path)),
        ]
    )
    assert pd.read_csv(outputs["report"])["as_expected"].all()
    assert pd.read_csv(outputs["variables"])["as_expected"].all()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
