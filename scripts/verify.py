"""Check the report: every outcome as expected, and the experiment conclusive.

Prints a table of outcomes per ordering and probe; when all is well, writes it to `--output`
with a summary and where to look next (the pipeline shows that file as its last words).
Fails, naming each offending row, when an outcome is not the expected one, or when a probe's
saved values are bit for bit its initial ones (then nothing can tell a restore from an
initialisation).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from ckptorder.atomic import write_text
from ckptorder.cli import fail


def outcome_table(report):
    """Orderings by probes, each cell the outcome, marked when it is not the expected one."""
    cells = report.assign(
        probe=report["tensor"] + " " + report["slice"],
        cell=report["outcome"].where(report["as_expected"], report["outcome"] + " (UNEXPECTED)"),
    )
    table = cells.pivot(index="ordering", columns="probe", values="cell")
    return table.reindex(index=cells["ordering"].unique(), columns=cells["probe"].unique())


def problems(report, variables, paths):
    """One line per offending row of either table; `paths` names the two files."""
    lines = []
    for row in report[~report["as_expected"]].itertuples():
        lines.append(
            f"{paths[0]}: {row.ordering} {row.tensor} {row.slice}: outcome {row.outcome}, "
            f"expected {row.expected}"
        )
    for row in variables[~variables["as_expected"]].itertuples():
        lines.append(
            f"{paths[1]}: {row.ordering} {row.variable}: outcome {row.outcome}, "
            f"expected {row.expected}"
        )
    for row in (
        report[report["saved_equals_initial"]].drop_duplicates(["tensor", "slice"]).itertuples()
    ):
        lines.append(
            f"inconclusive: probe {row.tensor} {row.slice} holds the same saved and initial "
            "values, so it cannot tell a restore from an initialisation (train more steps?)"
        )
    return lines


def open_next(report, variables):
    """Where to look next, for the run's last words."""
    html = Path(report).with_suffix(".html")
    places = {
        str(report): "outcome and differences per ordering and probe",
        str(variables): "outcome per ordering and variable",
        f"{Path(report).parent / 'figures'}/": "outcomes.png at a glance, probes.png the values",
        f"snakemake --report {html}": "all of it on one page",
    }
    width = max(map(len, places))
    return "Open next:\n" + "\n".join(
        f"  {place.ljust(width)}  {what}" for place, what in places.items()
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", required=True, help="report.csv")
    parser.add_argument("--variables", required=True, help="variables.csv")
    parser.add_argument("--output", required=True, help="file the table is written to on success")
    args = parser.parse_args(argv)
    report, variables = pd.read_csv(args.report), pd.read_csv(args.variables)
    table = f"Outcomes per ordering and probe ({args.report}):\n{outcome_table(report).to_string()}"
    print(table)
    found = problems(report, variables, (args.report, args.variables))
    if found:
        print("\n".join(found), file=sys.stderr)
        fail(
            f"verify found {len(found)} unexpected or inconclusive outcome(s), each named in the"
            f" lines before this one (the step's log); the report stays on disk: {args.report},"
            f" {args.variables}"
        )
    summary = f"verify: all {len(report)} probe and {len(variables)} variable outcomes as expected"
    write_text(args.output, f"{table}\n\n{summary}.\n{open_next(args.report, args.variables)}\n")
    print(f"verify: read {args.report}, {args.variables}; wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
