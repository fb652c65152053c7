"""Check the report: every outcome as expected, and the experiment conclusive, for each judged
checkpoint (one with an expected outcome; the others are reported, not judged).

Prints a table of outcomes per checkpoint, ordering and probe; when all is well, writes it to
`--output` with a summary and where to look next (the pipeline shows that file as its last
words). Fails, naming each offending row, when an outcome is not the expected one, or when a
judged probe's saved values are bit for bit its initial ones (then nothing can tell a restore
from an initialisation), or when a status check of TF2's object-based checkpoint (an
assertion, TensorFlow's warning of unrestored values) gives what TensorFlow 2.21 did not
(`object_ckpt.ORDERINGS`), or when an ordering restored every variable and yet the
model's output (the inference check, a SavedModel's signatures) differs from the saved one's.
"""

import logging
import re
import sys
import textwrap
from pathlib import Path

import pandas as pd

from ckptorder import orderings, tables
from ckptorder.atomic import write_text
from ckptorder.cli import fail, load_settings, one_line_errors, step_arguments
from ckptorder.formats import object_ckpt
from ckptorder.step_settings import VerifySettings

# The status check columns as the object_ckpt table heads them.
SHORT = {
    "assert_consumed": "consumed",
    "assert_existing_objects_matched": "existing_matched",
    "assert_nontrivial_match": "nontrivial",
    "warns_unrestored": "warns_unrestored",
}


# The widest line of a table, in characters: about 120 (the default run's widest, 122, fits);
# wider tables continue below.
TABLE_WIDTH = 125
# The names a line of the summary lists at most.
NAMES_SHOWN = 5


def outcome_tables(report, variables, paths, outside):
    """The tables that end a run: per checkpoint, its orderings by probes (each cell the
    outcome, marked where it is not the expected one; blank where the checkpoint lacks the
    probe) and, for a checkpoint from `outside`, how many variables each ordering left in each
    outcome; then one table per exported format, and the TF2 status checks."""
    marked = report["outcome"] + " (UNEXPECTED)"
    cells = report.assign(
        probe=report["tensor"] + " " + report["slice"],
        cell=report["outcome"].where(~tables.unexpected(report), marked),
    )
    shown = []
    own = (variables["format"] == "ckpt") | variables["checkpoint"].isin(outside)
    for checkpoint in variables.loc[own, "checkpoint"].unique():
        rows = cells[(cells["format"] == "ckpt") & (cells["checkpoint"] == checkpoint)]
        if len(rows):
            shown.append(probe_table(rows, ["checkpoint", "ordering"], "ckpt", paths[0]))
        if checkpoint in outside:
            shown.append(outcome_counts(variables, checkpoint, paths[1]))
    for format_, rows in cells[cells["format"] != "ckpt"].groupby("format", sort=False):
        shown.append(probe_table(rows, ["variant", "ordering"], format_, paths[0]))
        if format_ == "object_ckpt":
            index = ["variant", "ordering"]
            asserted = rows.drop_duplicates(index).set_index(index)[list(SHORT)]
            asserted = asserted.rename(columns=SHORT).rename_axis(columns="check")
            title = "What each TF2 ordering's status gave: assertions, unrestored-values warning"
            shown.append(f"{title} ({paths[0]}):\n{asserted.to_string(line_width=TABLE_WIDTH)}")
    return "\n\n".join(shown)


def probe_table(rows, index, format_, path):
    order = list(dict.fromkeys(zip(*(rows[key] for key in index), strict=True)))
    table = rows.pivot(index=index, columns="probe", values="cell")
    table = table.reindex(index=order, columns=rows["probe"].unique()).fillna("")
    title = orderings.FORMATS[format_].title
    return f"{title} ({path}):\n{table.to_string(line_width=TABLE_WIDTH)}"


def outcome_counts(variables, checkpoint, path):
    """How many of a checkpoint's variables each ordering left in each outcome (and, where
    judged, how many not as expected); a SavedModel's orderings by their kind, KIND.LOAD."""
    rows = variables[variables["checkpoint"] == checkpoint]
    pairs = zip(rows["variant"], rows["ordering"], strict=True)
    rows = rows.assign(ordering=[".".join(filter(None, pair)) for pair in pairs])
    counts = pd.crosstab(
        pd.Categorical(rows["ordering"], rows["ordering"].unique()), rows["outcome"]
    )
    counts = counts.reindex(columns=[o for o in orderings.OUTCOMES if o in counts.columns])
    if tables.judged(rows).any():
        counts["UNEXPECTED"] = tables.unexpected(rows).groupby(rows["ordering"].to_numpy()).sum()
    counts = counts.rename_axis(index="ordering", columns="variables")
    title = f"Variables per outcome: {checkpoint}, {len(rows['variable'].unique())} variables"
    return f"{title} ({path}):\n{counts.to_string(line_width=TABLE_WIDTH)}"


def inference_problems(inference, variables, path):
    """One line per ordering that restored every variable and yet did not give the saved
    model's output bit for bit: it differs, or running it raised."""
    return [
        f"{path}: {where(row)} {row.output}: every variable restored, yet "
        + (
            f"it raised ({row.error})"
            if isinstance(row.error, str) and row.error
            else f"the output differs from the saved model's (max_abs_diff {row.max_abs_diff})"
        )
        for row in tables.inference_failures(inference, variables).itertuples()
    ]


def problems(report, variables, paths):
    """One line per offending row of either table; `paths` names the two files."""
    lines = []
    for row in report[tables.unexpected(report)].itertuples():
        lines.append(
            f"{paths[0]}: {where(row)} {row.tensor} {row.slice}: outcome"
            f" {row.outcome}, expected {row.expected}{error_of(row)}"
        )
    for row in variables[tables.unexpected(variables)].itertuples():
        lines.append(
            f"{paths[1]}: {where(row)} {row.variable}: outcome {row.outcome},"
            f" expected {row.expected}{error_of(row)}"
        )
    lines += assertion_problems(report, paths[0])
    for row in tables.inconclusive(report).itertuples():
        lines.append(
            f"inconclusive: {row.checkpoint}'s probe {row.tensor} {row.slice} holds the same"
            " saved and initial values, so it cannot tell a restore from an initialisation"
            " (train more steps?)"
        )
    return lines


def assertion_problems(report, path):
    """One line per object_ckpt ordering and status check whose result is not what
    TensorFlow 2.21 gives (each ordering's `status`, which docs/tf2.md explains)."""
    return [
        f"{path}: {where(row)}: {check} gave {given}, expected {expected} (docs/tf2.md)"
        for row, check, given, expected in tables.status_mismatches(report)
    ]


def where(row):
    """The checkpoint, with its format and export variant unless a checkpoint's own, and the
    ordering."""
    if row.format == "ckpt":
        return f"{row.checkpoint} {row.ordering}"
    return f"{row.checkpoint} {row.format} {row.variant} {row.ordering}"


def error_of(row):
    return f" ({row.error})" if isinstance(row.error, str) else ""


def summary(report, variables, inference, compatible, skipped):
    """Each checkpoint whose graph shares few variables with it, first; how many outcomes were
    judged, which checkpoints were reported without a verdict, the orderings `skipped` (by
    checkpoint) and how many orderings the inference check passed."""
    words = "".join(f"{line}\n" for line in few_shared(compatible))
    probes, whole = tables.judged(report).sum(), tables.judged(variables).sum()
    if whole:
        words += (
            f"verify: all {probes} judged probe and {whole} judged variable outcomes as expected"
        )
    else:
        words += "verify: nothing judged (no checkpoint sets expected)"
    judged = tables.judged(variables).groupby(variables["checkpoint"], sort=False).any()
    reported = judged.index[~judged]
    if len(reported):
        words += f"; reported, not judged (no expected): {', '.join(reported)}"
    words += "."
    words += "".join(f"\n{line}" for line in not_run(skipped, compatible))
    restoring = tables.restoring_everything(inference, variables)
    passed = (~tables.given_savedmodel(restoring)).sum()
    if passed:
        words += (
            f"\nThe {passed} orderings that restore every variable give the built model's output"
            " bit for bit."
        )
    words += "".join(f"\n{line}" for line in signature_lines(inference))
    words += "".join(f"\n{line}" for line in restored_into_nothing(compatible))
    notes = {
        "unseeded": "the initializers of {} are unseeded (new values on every run): there"
        " `changed` after initialising means not restored.",
        "unlisted": "{}: variable ops no collection lists (a graph imported twice?): no"
        " initializer, restore or report_uninitialized_variables reaches them.",
    }
    # A TF2 SavedModel keeps no collections: none of its variables is listed, by design.
    tf2_savedmodel = tables.given_savedmodel(variables) & (variables["variant"] == "tf2")
    for kind, note in notes.items():
        found = variables[(variables["initializer"] == kind) & ~tf2_savedmodel]
        for checkpoint, names in found.groupby("checkpoint", sort=False)["variable"]:
            words += f"\n{checkpoint}: {note.format(some_of(names.unique()))}"
    for checkpoint in variables.loc[tf2_savedmodel, "checkpoint"].unique():
        words += (
            f"\n{checkpoint}: a TF2 SavedModel, whose variables no initializer or collection"
            " lists (TF2 keeps none): none can be `reinitialized`."
        )
    return words


def signature_lines(inference):
    """A line per SavedModel from outside (its inference rows are its signatures'): after
    how many of its loads every output was the reference's bit for bit, differed, or did not
    run, and why the first check that did not run was not (the guard refused it, no batch)."""
    lines = []
    rows = inference[tables.given_savedmodel(inference)]
    for checkpoint, found in rows.groupby("checkpoint", sort=False):
        loads = found.groupby(["variant", "ordering"], sort=False)
        ran = loads["error"].apply(lambda errors: (errors.fillna("") == "").all())
        equal = loads["bit_equal"].all() & ran
        unchecked = found["error"].fillna("")
        unchecked = unchecked[unchecked.str.startswith(orderings.NOT_CHECKED)]
        lines.append(
            f"{checkpoint}: its signatures' outputs ({found['output'].nunique()}) after each of"
            f" {len(ran)} loads: the reference's bit for bit after {equal.sum()}, different"
            f" after {(ran & ~equal).sum()}, not run after {(~ran).sum()} (inference.csv)."
            + (f" Not checked: {unchecked.iloc[0]}." if len(unchecked) else "")
        )
    return lines


def some_of(names):
    """The first NAMES_SHOWN names, and how many more."""
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


# The name ExponentialMovingAverage gives its shadows unless told another.
DEFAULT_AVERAGES = "ExponentialMovingAverage"


def not_run(skipped, compatible):
    """A line per checkpoint and setting its entry lacks, naming the orderings `skipped` for
    it; those restoring moving averages only where the checkpoint holds some (of the default
    name), with the setting that restores them."""
    lines = []
    for checkpoint, names in skipped.items():
        lacking = {}
        for name in names:
            for setting in orderings.needed_settings(name):
                lacking.setdefault(setting, []).append(name)
        for setting, names_ in lacking.items():
            if setting == orderings.MODEL_SETTING:
                keys = (compatible["checkpoint"] == checkpoint).sum()
                line = (
                    f"{checkpoint}: a TF2 checkpoint; its {keys} keys are listed in"
                    f" results/compatibility.csv. Its {len(names_)} orderings did not run: its"
                    f" entry sets no {orderings.SETTING_MEANINGS[setting]}."
                )
            else:
                line = (
                    f"{checkpoint}: {', '.join(names_)} not run: its entry sets no"
                    f" {orderings.SETTING_MEANINGS[setting]}."
                )
            if setting == "moving_averages":
                keys = compatible.loc[compatible["checkpoint"] == checkpoint, "key"].dropna()
                shadows = [key for key in keys if key.endswith(f"/{DEFAULT_AVERAGES}")]
                if not shadows:
                    continue
                line += (
                    f" Its checkpoint holds {len(shadows)} (e.g. {shadows[0]}):"
                    f" moving_averages: {DEFAULT_AVERAGES} restores them."
                )
            lines.append(line)
    return lines


def restored_into_nothing(compatible):
    """A line per checkpoint with keys no variable was matched to: nothing restores them,
    though every variable may be `restored`. An optimizer's (its slots, as a training
    checkpoint holds them) are made only once it is built or applied."""
    lines = []
    unused = compatible[compatible["status"] == "unused_key"]
    for checkpoint, rows in unused.groupby("checkpoint", sort=False):
        keys = rows["key"].tolist()
        line = (
            f"{checkpoint}: {len(keys)} of its checkpoint's keys were restored into nothing:"
            f" {some_of(keys)} (unused_key in results/compatibility.csv)"
        )
        if any(OPTIMIZER_KEY.search(key) for key in keys):
            line += (
                "; an optimizer's slots exist once it is built or applied: build it in the"
                " model's function to restore them"
            )
        lines.append(line)
    return lines


# A key of an optimizer's: a slot (TF2: VARIABLE/.OPTIMIZER_SLOT/...) or its own variables.
OPTIMIZER_KEY = re.compile(r"\.OPTIMIZER_SLOT/|^optimizer/")


def few_shared(compatible):
    """A warning per checkpoint whose graph's variables are mostly not in it, under their name
    or a suggested one, with their shape: the wrong graph, or a checkpoint of another model."""
    lines = []
    graph = compatible[compatible["variable"].notna() & (compatible["variable"] != "")]
    for checkpoint, rows in graph.groupby("checkpoint", sort=False):
        suggested = rows["suggested_key"].notna() & (rows["suggested_key"] != "")
        shared = ((rows["status"] == "match") | suggested).sum()
        if shared < len(rows) / 2:
            lines.append(
                f"WARNING: {checkpoint}: only {shared} of its graph's {len(rows)} variables are"
                " in the checkpoint, under their name or a suggested one, with their shape: is"
                " its graph the one the checkpoint was saved from? (results/compatibility.csv)"
            )
    return lines


def open_next(report, variables):
    """Where to look next, for the run's last words."""
    html = Path(report).with_suffix(".html")
    places = {
        str(report): "outcome and differences per ordering and probe",
        str(variables): "outcome per ordering and variable",
        f"{Path(report).parent / 'figures'}/CHECKPOINT/": (
            "outcomes.png at a glance, probes.png the values"
        ),
        f"snakemake --report {html}": "all of it on one page",
    }
    width = max(map(len, places))
    return "Open next:\n" + "\n".join(
        f"  {place.ljust(width)}  {what}" for place, what in places.items()
    )


def read_table(path):
    """A results table; its text columns that may be blank (a checkpoint's own orderings have
    no export variant, most orderings no status checks) as '' rather than NaN."""
    blank = ["variant", "variable", *object_ckpt.STATUS_CHECKS]
    return pd.read_csv(path, dtype=dict.fromkeys(blank, str)).fillna(dict.fromkeys(blank, ""))


def main(argv=None):
    options = [
        ("--report", "report.csv"),
        ("--variables", "variables.csv"),
        ("--inference", "inference.csv"),
        ("--compatibility", "compatibility.csv"),
        ("--output", "file the table is written to on success"),
    ]
    args = step_arguments("verify", __doc__, argv, options, VerifySettings)
    with one_line_errors():
        settings = load_settings(args.settings, VerifySettings)
    report, variables, inference, compatible = (
        read_table(path)
        for path in (args.report, args.variables, args.inference, args.compatibility)
    )
    paths = (args.report, args.variables)
    table = outcome_tables(report, variables, paths, settings["outside"])
    print(table)
    found = problems(report, variables, (args.report, args.variables))
    found += inference_problems(inference, variables, args.inference)
    if found:
        print("\n".join(found), file=sys.stderr)
        fail(
            f"verify found {len(found)} unexpected or inconclusive outcome(s), each named in the"
            f" lines before this one (the step's log); the report stays on disk: {args.report},"
            f" {args.variables}"
        )
    words = summary(report, variables, inference, compatible, settings["skipped"])
    words = "\n".join(textwrap.fill(line, TABLE_WIDTH) for line in words.splitlines())
    write_text(args.output, f"{table}\n\n{words}\n{open_next(args.report, args.variables)}\n")
    read = f"{args.report}, {args.variables}, {args.inference}"
    logging.info("read %s; wrote %s", read, args.output)


if __name__ == "__main__":
    main()
