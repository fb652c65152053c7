"""The figures and the HTML report, from the session's real run."""

import shutil
import struct

import pandas as pd
import pytest
import yaml

import figures
from ckptorder import figure_layout, network, orderings
from ckptorder.formats import ckpt
from conftest import snakemake

pytestmark = pytest.mark.workflow


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_figures_are_pngs_of_the_intended_size(pipeline):
    """A row per state (the references, then the checkpoint's orderings) and two panels per
    probe; a cell per ordering and variable; at 100 dpi."""
    shown = pipeline / "results" / "figures" / "seed"
    states = [*orderings.REFERENCES, *ckpt.BUILT_ORDERINGS]
    probes = yaml.safe_load((pipeline / "config.yaml").read_text())["probes"]
    inches = figure_layout.probes_size(states, len(probes))
    assert png_size(shown / "probes.png") == tuple(round(100 * x) for x in inches)
    inches = figure_layout.outcomes_size(ckpt.BUILT_ORDERINGS, list(network.variable_shapes()))
    assert png_size(shown / "outcomes.png") == tuple(round(100 * x) for x in inches)
    # About the width the HTML report shows without shrinking.
    assert png_size(shown / "probes.png")[0] < 1200


def test_the_readme_shows_the_figures_of_the_default_run(pipeline):
    for name in ("outcomes.png", "probes.png"):
        shown = (pipeline / "docs" / name).read_bytes()
        assert shown == (pipeline / "results" / "figures" / "seed" / name).read_bytes(), name


def test_figures_change_with_the_data_and_the_run_says_the_html_report_is_old(pipeline, tmp_path):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    snakemake(workdir, "--report", "results/report.html")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["probes"][0]["slice"] = "[0, :, :, 2]"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = snakemake(workdir, "--cores", "4")
    assert run.stdout.rstrip().endswith(
        "results/report.html is older than the results: snakemake --report results/report.html"
    )
    figures = "results/figures/seed/probes.png"
    assert png_size(workdir / figures) == png_size(pipeline / figures)
    assert (workdir / figures).read_bytes() != (pipeline / figures).read_bytes()
    outcomes = "results/figures/seed/outcomes.png"
    assert (workdir / outcomes).read_bytes() == (pipeline / outcomes).read_bytes()


def test_the_html_report_holds_both_figures_and_both_tables(pipeline, tmp_path):
    page = tmp_path / "report.html"
    snakemake(pipeline, "--report", str(page))
    html = page.read_text()
    for name in ("probes.png", "outcomes.png", "report.csv", "variables.csv"):
        assert name in html, name
    assert "whichever runs last decides what a variable holds" in html
    assert orderings.ordering_of("restore_partial", "initialize_uninitialized") in html


def test_each_probe_panel_is_marked_with_the_reports_outcome(pipeline):
    """In every format, those without values too: the SavedModel's failed and uninitialized."""
    results = pipeline / "results"
    report = pd.read_csv(results / "report.csv", keep_default_na=False)
    assert {"failed", "uninitialized"} <= set(report["outcome"])
    for row in report.itertuples():
        source = "seed" if row.format == "ckpt" else f"seed.{row.format}"
        state = ".".join(filter(None, (row.variant, row.ordering)))
        panels = figures.read_panels(results / "slices" / f"{source}.csv")
        values = {s: panels[s, row.tensor, row.slice] for s in ("saved", "initial", state)}
        no_value = figures.no_value_outcome(results / "values" / source, row.tensor)
        assert figures.probe_outcome(state, values, no_value) == row.outcome, row
