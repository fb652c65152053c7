"""Diff every ordering's values against the saved and initial ones into the report, for every
checkpoint.

Writes `report.csv` (one row per checkpoint, format, export variant, ordering and probe, from
the slice CSVs),
`variables.csv` (the same comparison on every whole variable, from the values files; for
TF2's object-based checkpoint also what each status assertion gave after each ordering, and
whether TensorFlow warned of unrestored values),
`compatibility.csv` (each graph variable against the checkpoint's keys, and the keys no
variable uses, from restore's findings), `trajectory.csv` (each probed saved value of every
checkpoint of a training run's folder, by step), `inference.csv` (the built model's output after
each ordering against its output before saving) and `provenance.json` (the versions and config
the report was made from). Equality is bitwise.
An ordering that raised leaves `failed` (and TensorFlow's error), a variable that could not be
read `uninitialized`. A variable whose initializer is unseeded (`initializer` column) gets new
values each time it is initialised: there `changed` is what initialising leaves. A variable op
no collection lists (`unlisted`: a graph imported twice) is neither initialised nor restored,
unless it shares a listed variable's resource: then it holds that variable's value.
A checkpoint without `expected` gets no verdict: reported, not judged.
"""

import contextlib
import importlib.metadata
import json
import logging
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from ckptorder import compatibility, network, orderings, slice_csv, tables
from ckptorder.atomic import atomic_path, write_text
from ckptorder.cli import load_settings, one_line_errors, step_arguments
from ckptorder.formats import ckpt, object_ckpt
from ckptorder.step_settings import ReportSettings
from ckptorder.values import (
    ASSERTIONS_FILE,
    GRAPH_FACTS,
    INFERENCE,
    Values,
    bitwise_equal,
    max_abs_diff,
    state_paths,
    variable_shapes,
)

NO_VALUE_OUTCOMES = (orderings.FAILED, orderings.UNINITIALIZED)


def compare(values, saved, initial):
    """The report's measures of one state's float32 values against saved and initial; None
    for what holds no value: `saved` for a variable the checkpoint lacks, `values` for one
    the state holds no value of, `initial` for one no initializer sets."""
    known = next((a for a in (values, initial, saved) if a is not None), None)
    return {
        "n_values": 0 if known is None else known.size,
        "max_abs_diff_vs_saved": (
            max_abs_diff(values, saved) if values is not None and saved is not None else np.nan
        ),
        "equal_to_saved": values is not None and saved is not None and bitwise_equal(values, saved),
        "equal_to_initial": (
            values is not None and initial is not None and bitwise_equal(values, initial)
        ),
        "saved_equals_initial": (
            saved is not None and initial is not None and bitwise_equal(saved, initial)
        ),
    }


def outcome(measures, status):
    return status or orderings.observed_outcome(
        measures["equal_to_saved"], measures["equal_to_initial"]
    )


def restored_from(ordering, facts):
    """Variable to the variable whose saved value the ordering restores into it, where that is
    another's: an averaged variable's shadow, in an ordering that restores moving averages."""
    if "averages" in facts and "restore_moving_averages" in orderings.steps(ordering):
        return facts["averages"]["restored_from"]
    return {}


def variable_table(paths, ordering_names, facts):
    """Every variable of the graph under every ordering against saved and initial (the saved
    value of the variable the ordering restores it from: `restored_from`). A variable the
    restore job found bit-equal to saved or initial is not read again: its measures are those
    of that state, computed once per variable."""
    references = {state: paths[state] for state in orderings.REFERENCES}
    rows = []
    with contextlib.ExitStack() as stack:
        saved, initial = (stack.enter_context(Values(references[s])) for s in references)
        states = {o: stack.enter_context(Values(paths[o], references)) for o in ordering_names}
        sources = {o: restored_from(o, facts) for o in ordering_names}
        for name in initial.names:
            saved_value = saved.read(name) if saved.readable(name) else None
            initial_value = initial.read(name) if initial.readable(name) else None
            by_source = {
                "saved": compare(saved_value, saved_value, initial_value),
                "initial": compare(initial_value, saved_value, initial_value),
            }
            for ordering, state in states.items():
                if name not in state.names:
                    continue  # not a variable of the network this ordering restored into
                status, source = no_value(state, name)
                other = sources[ordering].get(name)
                reference = saved_value
                if other is not None:
                    reference = saved.read(other) if saved.readable(other) else None
                if status:
                    measures = compare(None, reference, initial_value)
                elif other is None and source in by_source:
                    measures = by_source[source]
                else:
                    measures = compare(state.read(name), reference, initial_value)
                rows.append(
                    {
                        "ordering": ordering,
                        "variable": name,
                        "source": source,
                        **measures,
                        "outcome": outcome(measures, status),
                        "error": state.failed or "",
                    }
                )
            # Free this variable's two copies before the next one is read.
            del saved_value, initial_value
    order = {ordering: n for n, ordering in enumerate(ordering_names)}
    # A TF2 checkpoint listed without its model runs no ordering: a table of no rows.
    columns = ["ordering", "variable", "source", *tables.MEASURES, "outcome", "error"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("ordering", key=lambda o: o.map(order), kind="stable")


def no_value(state, name):
    """(status, source) of a variable in a state: status failed or uninitialized where the
    state holds no value of it, else None."""
    if state.failed:
        return orderings.FAILED, "none"
    source = state.source(name)
    return (
        (orderings.UNINITIALIZED, "none") if source == orderings.UNINITIALIZED else (None, source)
    )


def read_slices(path, probes, shapes):
    """A checkpoint's slice CSV as a frame, values as the float32 they were written from;
    `shapes` maps each variable to its shape. Raises ValueError for a file without every
    probe's values."""
    rows = slice_csv.read(path, slice_csv.probe_elements(probes, shapes))
    return pd.DataFrame(rows, columns=slice_csv.COLUMNS).astype({"value": np.float32})


def probe_table(frame, ordering_names, shapes, variables, facts):
    """One row of measures per ordering and probe, probes in the order the CSV lists them
    (read_slices has checked that it holds every probe's elements); `variables` is the
    checkpoint's variable table, which says where a state holds no value; `facts`: restore's
    findings."""
    wide = frame.pivot(index=["tensor", "slice", "index"], columns="state", values="value")
    probes = frame.loc[frame["state"] == "saved", ["tensor", "slice"]].drop_duplicates()
    known = variables.set_index(["ordering", "variable"])
    rows = []
    for ordering in ordering_names:
        for tensor, slice_ in probes.itertuples(index=False):
            variable = network.variable_name(tensor, shapes)
            row = known.loc[(ordering, variable)]
            probe = wide.loc[(tensor, slice_)]
            # A variable restored from another's saved value: its slice has no saved one to
            # compare with here, the probe takes its variable's outcome.
            restored_elsewhere = variable in restored_from(ordering, facts)
            status = (
                row["outcome"]
                if row["outcome"] in NO_VALUE_OUTCOMES or restored_elsewhere
                else None
            )
            measures = compare(
                None if status else probe[ordering].to_numpy(),
                probe["saved"].to_numpy()
                if row["saved_in_checkpoint"] and not restored_elsewhere
                else None,
                probe["initial"].to_numpy(),
            )
            rows.append(
                {
                    "ordering": ordering,
                    "tensor": tensor,
                    "slice": slice_,
                    "variable": variable,
                    **measures,
                    "outcome": outcome(measures, status),
                    "error": row["error"],
                }
            )
    columns = ["ordering", "tensor", "slice", "variable", *tables.MEASURES, "outcome", "error"]
    return pd.DataFrame(rows, columns=columns)


def expected_outcome(checkpoint, ordering, variable, facts, saved):
    """The config's override if it has one, else what the ordering's steps leave (`facts`:
    restore's findings, the suggested map among them; `saved`: the variables the checkpoint
    holds): where they initialise last a variable whose initializer is unseeded, new values
    (`changed`)."""
    override = checkpoint["expected"].get(ordering)
    if isinstance(override, dict):
        override = override.get(variable)
    if override is not None:
        return override
    if variable in facts["aliases"]:
        return expected_outcome(checkpoint, ordering, facts["aliases"][variable], facts, saved)
    savedmodel = checkpoint["format"] == "savedmodel"
    if savedmodel and facts["init_op"] is None and orderings.runs_init_op(ordering):
        return ""  # its init op writes variables other than by their initializers: not judged
    if variable in facts["unlisted"] and not savedmodel:
        return orderings.UNINITIALIZED  # nothing TensorFlow runs of the graph reaches it
    mapped = facts["suggested_map"].values()
    averages = orderings.MovingAverages(**facts["averages"]) if "averages" in facts else None
    outcomes = orderings.expected_outcomes(
        ordering,
        [variable],
        checkpoint["partial_variables"],
        mapped,
        facts["random"],
        saved,
        averages,
        facts.get("copies"),
        init_op=facts.get("init_op") or (),
        unlisted=facts["unlisted"],
        lifted=facts.get("lifted", False),
    )
    if outcomes[variable] == orderings.REINITIALIZED and variable in facts["unseeded"]:
        return orderings.CHANGED
    return outcomes[variable]


def copies_of_saved(copies, saved):
    """restore's `copies` (variable to the variables its initializer reads), each source with
    whether the variable's saved value is bit for bit that source's: a copy of the source's
    restored value then shows as `restored` (a shadow whose average had converged)."""
    return {
        copy: {
            source: saved.readable(copy)
            and saved.readable(source)
            and saved.equals(copy, saved.read(source))
            for source in sources
        }
        for copy, sources in copies.items()
    }


def labelled(table, checkpoint):
    """The table with the checkpoint's name, its format and the export variant first ('' for
    a checkpoint's own ordering), and each ordering's own name."""
    labels = [variant_and_ordering(ordering) for ordering in table["ordering"]]
    table.insert(0, "checkpoint", checkpoint["checkpoint"])
    table.insert(1, "format", checkpoint["format"])
    table.insert(2, "variant", [variant for variant, _ in labels])
    table["ordering"] = [name for _, name in labels]
    return table


def variant_and_ordering(state):
    if state in ckpt.ORDERINGS:
        return "", state
    return orderings.variant_and_load(state)[1:]


def add_verdict(table, checkpoint, facts, saved):
    """What each variable's initializer gives: the same values on every run (`seeded` random
    numbers, or `constant`), new ones (`unseeded`), another checkpoint's (`checkpoint`: a warm
    start), or none (`unlisted`); the expected outcome
    and whether it came, where the checkpoint is judged (blank where not); `saved`: the
    variables the checkpoint holds."""
    table["initializer"] = table["variable"].map(
        lambda name: (
            "unlisted"
            if name in facts["unlisted"]
            else "unseeded"
            if name in facts["unseeded"]
            else "checkpoint"
            if name in facts.get("warm_started", ())
            else "constant"
            if name in facts["constant"]
            else "seeded"
        )
    )
    if checkpoint["expected"] is None:
        table["expected"] = ""
        table["as_expected"] = ""
        return table
    table["expected"] = [
        expected_outcome(checkpoint, o, v, facts, saved)
        for o, v in zip(table["ordering"], table["variable"], strict=True)
    ]
    table["as_expected"] = tables.as_expected(table)
    return table


def checkpoint_tables(checkpoint, slices_path, folder):
    """The report's, the variable table's and the compatibility table's rows of one
    checkpoint."""
    paths = state_paths(folder, orderings.states(checkpoint["orderings"]))
    facts = json.loads((Path(folder) / GRAPH_FACTS).read_text())
    with Values(paths["initial"]) as initial, Values(paths["saved"]) as saved:
        shapes = variable_shapes(initial, saved)
        in_checkpoint = set(saved.names)
        facts["copies"] = copies_of_saved(facts.get("copies", {}), saved)
    variables = variable_table(paths, checkpoint["orderings"], facts)
    variables["saved_in_checkpoint"] = variables["variable"].isin(in_checkpoint)
    frame = read_slices(slices_path, checkpoint["probes"], shapes)
    probes = probe_table(frame, checkpoint["orderings"], shapes, variables, facts)
    variables = variables.drop(columns="saved_in_checkpoint")
    compatible = pd.DataFrame(facts["compatibility"], columns=compatibility.COLUMNS)
    compatible.insert(0, "checkpoint", checkpoint["checkpoint"])
    asserted = assertion_results(folder)
    probes = with_assertions(add_verdict(probes, checkpoint, facts, in_checkpoint), asserted)
    variables = with_assertions(add_verdict(variables, checkpoint, facts, in_checkpoint), asserted)
    return (
        labelled(probes, checkpoint),
        labelled(variables, checkpoint),
        compatible,
        trajectory_rows(frame, checkpoint),
        inference_rows(folder, checkpoint),
    )


def assertion_results(folder):
    """What each status check gave after each ordering (object_ckpt's), by ordering."""
    path = Path(folder) / ASSERTIONS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def with_assertions(table, asserted):
    """The table with a column per status check: each assertion's passes, or the class of what
    it raised, and whether TensorFlow warned of unrestored values (warns or silent); blank for
    an ordering that has no status object (all but object_ckpt's)."""
    for assertion in object_ckpt.STATUS_CHECKS:
        table[assertion] = [asserted.get(o, {}).get(assertion, "") for o in table["ordering"]]
    return table


def inference_rows(folder, checkpoint):
    """The inference check of each ordering and output, where its job ran one (the built
    model's output, a SavedModel's signatures)."""
    path = Path(folder) / INFERENCE
    if not path.exists():
        return pd.DataFrame(columns=tables.INFERENCE)
    found = json.loads(path.read_text())
    table = pd.DataFrame(
        [
            {"ordering": state, "output": output, **check}
            for state in checkpoint["orderings"]
            for output, check in sorted(found.get(state, {}).items())
        ],
        columns=["ordering", "output", *tables.INFERENCE_CHECK],
    )
    return labelled(table, checkpoint)


def trajectory_rows(frame, checkpoint):
    """The probed saved values of a checkpoint of a training run, with its run and step."""
    if checkpoint["run"] is None:
        return pd.DataFrame(columns=tables.TRAJECTORY)
    saved = frame[frame["state"] == "saved"].drop(columns="state")
    return saved.assign(run=checkpoint["run"], step=checkpoint["step"])[list(tables.TRAJECTORY)]


def write_csv(table, columns, path):
    """`table`'s `columns` (a schema of tables.py), in that order, as CSV."""
    with atomic_path(path) as temporary:
        table[list(columns)].to_csv(temporary, index=False, lineterminator="\n")


def provenance(settings):
    versions = {"python": platform.python_version(), "snakemake": settings["snakemake"]}
    for package in ("tensorflow", "numpy", "pandas"):
        versions[package] = importlib.metadata.version(package)
    return {"config": settings["config"], "versions": versions}


def main(argv=None):
    options = [
        ("--slices", "each checkpoint's slice CSV", {"nargs": "+"}),
        ("--values", "each checkpoint's folder of values files", {"nargs": "+"}),
        ("--report", "report CSV to write"),
        ("--variables", "per-variable CSV to write"),
        ("--compatibility", "compatibility CSV to write"),
        ("--trajectory", "training runs' CSV to write"),
        ("--inference", "inference check's CSV to write"),
        ("--provenance", "provenance JSON to write"),
    ]
    args = step_arguments("report", __doc__, argv, options, ReportSettings)
    with one_line_errors():
        settings = load_settings(args.settings, ReportSettings)
        checkpoints = settings["checkpoints"]
        if not len(checkpoints) == len(args.slices) == len(args.values):
            raise ValueError(
                f"{len(checkpoints)} checkpoints in --settings, {len(args.slices)} --slices and"
                f" {len(args.values)} --values: give one of each per checkpoint, in one order"
            )
        per_checkpoint = [
            checkpoint_tables(checkpoint, slices, values)
            for checkpoint, slices, values in zip(
                checkpoints, args.slices, args.values, strict=True
            )
        ]
    probes, variables, compatible, trajectory, inference = (
        pd.concat(t, ignore_index=True) for t in zip(*per_checkpoint, strict=True)
    )
    write_csv(probes, tables.REPORT, args.report)
    write_csv(variables, tables.VARIABLES, args.variables)
    write_csv(compatible, tables.COMPATIBILITY, args.compatibility)
    trajectory = trajectory.sort_values(["run", "step"], kind="stable")
    write_csv(trajectory, tables.TRAJECTORY, args.trajectory)
    write_csv(inference, tables.INFERENCE, args.inference)
    write_text(
        args.provenance,
        json.dumps(provenance(settings), indent=2, sort_keys=True) + "\n",
    )
    logging.info("read %s and %s", " ".join(args.slices), " ".join(args.values))
    written = (
        *(args.report, args.variables, args.compatibility, args.trajectory, args.inference),
        args.provenance,
    )
    logging.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    main()
