"""Diff every ordering's values against the saved and initial ones into the report.

Writes `report.csv` (one row per ordering and probe, from the slice CSVs), `variables.csv`
(the same comparison on every whole variable, from the values files) and `provenance.json`
(the versions and config the report was made from). Equality is bitwise.
"""

import argparse
import importlib.metadata
import io
import json
import logging
import math
import platform
from pathlib import Path

import numpy as np
import pandas as pd

import network
import orderings
import slices
from atomic import atomic_path, write_text
from cli import fail, load_settings
from values import Values, bitwise_equal

DEFAULTS = {
    "orderings": list(orderings.ORDERINGS),
    "partial_variables": orderings.DEFAULT_PARTIAL_VARIABLES,
    "expected": {},
    "probes": network.SEED_PROBES,
    "config": {},
    "snakemake": None,
}
KEYS = ["ordering", "tensor", "slice"]


def compare(values, saved, initial):
    """The report's measures of one state's float32 values against saved and initial."""
    return {
        "n_values": values.size,
        "max_abs_diff_vs_saved": float(np.max(np.abs(values.astype(np.float64) - saved))),
        "equal_to_saved": bitwise_equal(values, saved),
        "equal_to_initial": bitwise_equal(values, initial),
        "saved_equals_initial": bitwise_equal(saved, initial),
    }


def read_slices(paths, probes):
    """All slice CSVs as one frame, values back as the float32 they were written from."""
    frame = pd.concat(read_slice_csv(path, probes) for path in paths)
    return frame.assign(value=frame["value"].astype(np.float32))


def read_slice_csv(path, probes):
    """One state's slice CSV, refused unless it holds exactly every probe's elements."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.endswith("\n"):
        raise ValueError(f"{path}: cut short (it does not end with a complete line)")
    frame = pd.read_csv(io.StringIO(text), dtype={"index": str, "value": np.float64})
    held = frame.groupby(["tensor", "slice"], sort=False).size().to_dict()
    if held != probe_sizes(probes):
        raise ValueError(f"{path}: does not hold every probe's values (cut short or stale)")
    return frame


def probe_sizes(probes):
    shapes = network.variable_shapes()
    return {
        (p["tensor"], p["slice"]): math.prod(
            len(axis)
            for axis in slices.axis_indices(p["slice"], shapes[network.variable_name(p["tensor"])])
        )
        for p in probes
    }


def probe_table(frame, ordering_names):
    """One row of measures per ordering and probe, probes in the order the CSVs list them."""
    wide = frame.pivot(index=["tensor", "slice", "index"], columns="state", values="value")
    if wide.isna().any().any():
        incomplete = sorted(wide.columns[wide.isna().any()])
        raise ValueError(f"slice CSVs of {', '.join(incomplete)} do not hold every probe's values")
    probes = frame.loc[frame["state"] == "saved", ["tensor", "slice"]].drop_duplicates()
    rows = []
    for ordering in ordering_names:
        for tensor, slice_ in probes.itertuples(index=False):
            probe = wide.loc[(tensor, slice_)]
            measures = compare(*(probe[s].to_numpy() for s in (ordering, "saved", "initial")))
            variable = network.variable_name(tensor)
            rows.append(
                {
                    "ordering": ordering,
                    "tensor": tensor,
                    "slice": slice_,
                    "variable": variable,
                    **measures,
                }
            )
    return pd.DataFrame(rows)


def variable_table(value_paths, ordering_names):
    saved_path, initial_path = value_paths["saved"], value_paths["initial"]
    references = {"saved": saved_path, "initial": initial_path}
    rows = []
    with Values(saved_path) as saved, Values(initial_path) as initial:
        for ordering in ordering_names:
            with Values(value_paths[ordering], references) as state:
                for name in network.variable_shapes():
                    rows.append(
                        {
                            "ordering": ordering,
                            "variable": name,
                            "source": state.source(name),
                            **compare(state.read(name), saved.read(name), initial.read(name)),
                        }
                    )
    return pd.DataFrame(rows)


def expected_outcome(settings, ordering, variable):
    """The config's override if it has one, else what the ordering's steps leave."""
    override = settings["expected"].get(ordering)
    if isinstance(override, dict):
        override = override.get(variable)
    if override is not None:
        return override
    variables = list(network.variable_shapes())
    return orderings.expected_outcomes(ordering, variables, settings["partial_variables"])[variable]


def add_verdict(table, settings):
    table["outcome"] = np.select(
        [table["equal_to_saved"], table["equal_to_initial"]],
        ["restored", "reinitialized"],
        "changed",
    )
    table["expected"] = [
        expected_outcome(settings, o, v)
        for o, v in zip(table["ordering"], table["variable"], strict=True)
    ]
    table["as_expected"] = table["outcome"] == table["expected"]
    return table


def write_csv(table, path):
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False, lineterminator="\n")


def provenance(settings):
    versions = {"python": platform.python_version(), "snakemake": settings["snakemake"]}
    for package in ("tensorflow", "numpy", "pandas"):
        versions[package] = importlib.metadata.version(package)
    return {"config": settings["config"], "versions": versions}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--settings",
        default="{}",
        help=f"JSON object over these defaults: {json.dumps(DEFAULTS, sort_keys=True)}",
    )
    parser.add_argument("--slices", nargs="+", required=True, help="slice CSVs of every state")
    parser.add_argument(
        "--values",
        nargs="+",
        required=True,
        help="values file of each state, named STATE.npz, saved and initial included",
    )
    parser.add_argument("--report", required=True, help="report CSV to write")
    parser.add_argument("--variables", required=True, help="per-variable CSV to write")
    parser.add_argument("--provenance", required=True, help="provenance JSON to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="report: %(message)s")
    settings = load_settings(args.settings, DEFAULTS)
    value_paths = {Path(path).stem: path for path in args.values}
    try:
        probes = add_verdict(
            probe_table(read_slices(args.slices, settings["probes"]), settings["orderings"]),
            settings,
        )
        variables = add_verdict(variable_table(value_paths, settings["orderings"]), settings)
    except ValueError as error:
        fail(str(error))
    write_csv(probes.drop(columns="variable"), args.report)
    write_csv(variables, args.variables)
    write_text(
        args.provenance,
        json.dumps(provenance(settings), indent=2, sort_keys=True) + "\n",
    )
    logging.info("read %s and %s", " ".join(args.slices), " ".join(args.values))
    logging.info("wrote %s, %s, %s", args.report, args.variables, args.provenance)


if __name__ == "__main__":
    main()
