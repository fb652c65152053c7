"""Diff every ordering's values against the saved and initial ones into the report.

Writes `report.csv` (one row per ordering and probe, from the slice CSVs), `variables.csv`
(the same comparison on every whole variable, from the values files) and `provenance.json`
(the versions and config the report was made from). Equality is bitwise.
"""

import argparse
import contextlib
import importlib.metadata
import json
import logging
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from ckptorder import network, orderings, slice_csv
from ckptorder.atomic import atomic_path, write_text
from ckptorder.cli import add_settings_argument, fail, load_settings
from ckptorder.values import Values, bitwise_equal, max_abs_diff

SETTINGS = {
    "orderings": "the orderings to report, in order",
    "partial_variables": "what partial_restore restores (for its expected outcomes)",
    "expected": "overrides of expected outcomes, {ordering: outcome or {variable: outcome}}",
    "probes": "list of {tensor, slice}",
    "config": "the config, recorded in the provenance file",
    "snakemake": "Snakemake's version, recorded in the provenance file",
}


def compare(values, saved, initial):
    """The report's measures of one state's float32 values against saved and initial."""
    return {
        "n_values": values.size,
        "max_abs_diff_vs_saved": max_abs_diff(values, saved),
        "equal_to_saved": bitwise_equal(values, saved),
        "equal_to_initial": bitwise_equal(values, initial),
        "saved_equals_initial": bitwise_equal(saved, initial),
    }


def read_slices(paths, probes, shapes):
    """All slice CSVs as one frame, values as the float32 they were written from; `shapes`
    maps each variable to its shape. Raises ValueError for a file without every probe's values."""
    rows = slice_csv.read(paths, slice_csv.probe_elements(probes, shapes))
    return pd.DataFrame(rows, columns=slice_csv.COLUMNS).astype({"value": np.float32})


def probe_table(frame, ordering_names, shapes):
    """One row of measures per ordering and probe, probes in the order the CSVs list them
    (read_slices has checked that every CSV holds every probe's elements)."""
    wide = frame.pivot(index=["tensor", "slice", "index"], columns="state", values="value")
    probes = frame.loc[frame["state"] == "saved", ["tensor", "slice"]].drop_duplicates()
    rows = []
    for ordering in ordering_names:
        for tensor, slice_ in probes.itertuples(index=False):
            probe = wide.loc[(tensor, slice_)]
            measures = compare(*(probe[s].to_numpy() for s in (ordering, "saved", "initial")))
            variable = network.variable_name(tensor, shapes)
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
    """Every variable under every ordering against saved and initial. A variable the restore
    job found bit-equal to saved or initial is not read again: its measures are those of
    that state, computed once per variable."""
    references = {"saved": value_paths["saved"], "initial": value_paths["initial"]}
    rows = []
    with contextlib.ExitStack() as stack:
        saved, initial = (stack.enter_context(Values(references[s])) for s in references)
        states = {
            o: stack.enter_context(Values(value_paths[o], references)) for o in ordering_names
        }
        for name in saved.names:
            saved_value, initial_value = saved.read(name), initial.read(name)
            by_source = {
                "saved": compare(saved_value, saved_value, initial_value),
                "initial": compare(initial_value, saved_value, initial_value),
            }
            for ordering, state in states.items():
                source = state.source(name)
                measures = by_source.get(source) or compare(
                    state.read(name), saved_value, initial_value
                )
                rows.append({"ordering": ordering, "variable": name, "source": source, **measures})
            # Free this variable's two copies before the next one is read.
            del saved_value, initial_value
    order = {ordering: n for n, ordering in enumerate(ordering_names)}
    return pd.DataFrame(rows).sort_values("ordering", key=lambda o: o.map(order), kind="stable")


def expected_outcome(settings, ordering, variable):
    """The config's override if it has one, else what the ordering's steps leave."""
    override = settings["expected"].get(ordering)
    if isinstance(override, dict):
        override = override.get(variable)
    if override is not None:
        return override
    outcomes = orderings.expected_outcomes(ordering, [variable], settings["partial_variables"])
    return outcomes[variable]


def add_verdict(table, settings):
    table["outcome"] = [
        orderings.observed_outcome(s, i)
        for s, i in zip(table["equal_to_saved"], table["equal_to_initial"], strict=True)
    ]
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
    add_settings_argument(parser, SETTINGS)
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
    value_paths = {Path(path).stem: path for path in args.values}
    try:
        settings = load_settings(args.settings, SETTINGS)
        with Values(value_paths["saved"]) as saved:
            shapes = {name: saved.shape(name) for name in saved.names}
        frame = read_slices(args.slices, settings["probes"], shapes)
        probes = add_verdict(probe_table(frame, settings["orderings"], shapes), settings)
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
