"""The pipeline's work in one Python process, for the benchmark: what a user could write
instead of the workflow. Same steps, same code, no Snakemake and no process per ordering.

    python bench/mono.py OUTPUT_DIR
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import build
import extract
import network
import orderings
import report
import restore
from values import Values


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    prefix = str(out / "model.ckpt")
    paths = {
        state: str(out / f"{state}.npz") for state in ("saved", "initial", *orderings.ORDERINGS)
    }
    references = {"saved": paths["saved"], "initial": paths["initial"]}
    build.run({**build.DEFAULTS}, prefix, paths["initial"], paths["saved"])
    for ordering in orderings.ORDERINGS:
        settings = {**restore.DEFAULTS, "ordering": ordering}
        restore.apply_ordering(prefix, settings, 1, paths[ordering], references)
    csvs = []
    for state, path in paths.items():
        with Values(path, references) as values:
            rows = [
                row
                for probe in network.SEED_PROBES
                for row in extract.probe_rows(state, values, probe)
            ]
        csvs.append(out / f"{state}.csv")
        extract.write_rows(csvs[-1], rows)
    settings = {**report.DEFAULTS, "orderings": list(orderings.ORDERINGS)}
    with Values(paths["saved"]) as saved:
        shapes = {name: saved.shape(name) for name in saved.names}
    frame = report.read_slices(csvs, network.SEED_PROBES, shapes)
    probes = report.add_verdict(report.probe_table(frame, settings["orderings"], shapes), settings)
    variables = report.add_verdict(report.variable_table(paths, settings["orderings"]), settings)
    assert probes["as_expected"].all() and variables["as_expected"].all()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
