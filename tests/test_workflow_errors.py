"""Bad input and damaged files: one clear line, a non-zero exit, nothing produced from bad data."""

import shutil

import pytest
import yaml

from ckptorder.orderings import ordering_of
from conftest import add_a_write_to_an_initializer, copy_project, flip_byte, snakemake

pytestmark = pytest.mark.workflow
RESTORES = ordering_of("restore_all")


def assert_clear_failure(result, *words):
    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in shown and 'File "' not in shown, shown
    for word in words:
        assert word in shown, f"{word!r} not in:\n{shown}"


# A few mistakes, end to end: the Snakefile checks the config before any job runs (every
# message is checked in test_configuration.py).
CONFIG_CASES = {
    "unknown key": (lambda c: c.update(sed=1), ["(top level): unknown key(s) sed"]),
    "unknown ordering": (
        lambda c: c.update(orderings=["restore_twice"]),
        ["orderings[0]: 'restore_twice' is not allowed"],
    ),
    "slice out of range": (
        lambda c: c["probes"].append({"tensor": "conv_1/kernel", "slice": "[3]"}),
        ["probes[2]: slice '[3]': index 3 is out of range"],
    ),
}


@pytest.mark.parametrize("case", CONFIG_CASES, ids=list(CONFIG_CASES))
def test_config_mistakes_stop_before_any_job(tmp_path, case):
    workdir = copy_project(tmp_path / "project")
    change, words = CONFIG_CASES[case]
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    change(config)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--cores", "1", check=False)
    assert_clear_failure(result, "config error:", *words)
    assert not (workdir / "results").exists()


def test_config_not_yaml(tmp_path):
    workdir = copy_project(tmp_path / "project")
    (workdir / "config.yaml").write_text("seed: [42\n")
    assert_clear_failure(snakemake(workdir, "--cores", "1", check=False), "not valid JSON or YAML")
    assert not (workdir / "results").exists()


def test_config_missing(tmp_path):
    workdir = copy_project(tmp_path / "project")
    (workdir / "config.yaml").unlink()
    result = snakemake(workdir, "--cores", "1", check=False)
    assert_clear_failure(result, "configfile config.yaml but it is not present")


def test_diverging_training_names_the_setting_and_the_step(tmp_path):
    workdir = copy_project(tmp_path / "project")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["train"]["learning_rate"] = 1e30
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--cores", "1", check=False)
    assert_clear_failure(result, "train.learning_rate 1e+30 is too large")
    assert not (workdir / "results" / "checkpoint").exists()
    assert not (workdir / "results" / "values").exists()


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def replace_with_junk(path):
    path.write_text("this is not a checkpoint file\n" * 20)


DATA = "model.ckpt.data-00000-of-00001"
DAMAGE = {
    "data byte flipped": (DATA, flip_byte, "checksum mismatch (the file is damaged)"),
    "data truncated": (DATA, truncate, "truncated (shorter than its index says)"),
    "index truncated": ("model.ckpt.index", truncate, "not a checkpoint index"),
    "index junk": ("model.ckpt.index", replace_with_junk, "not a checkpoint index"),
    "meta truncated": ("model.ckpt.meta", truncate, "not a checkpoint meta graph"),
    "meta junk": ("model.ckpt.meta", replace_with_junk, "not a checkpoint meta graph"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_fails_restore_naming_the_file(pipeline, tmp_path, case):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    name, damage, words = DAMAGE[case]
    damaged = workdir / "results" / "checkpoint" / name
    damage(damaged)
    report = workdir / "results" / "report.csv"
    before = report.stat().st_mtime_ns
    # The restore job alone (export and load read the same files and fail the same way).
    result = snakemake(workdir, "results/values/seed", "--cores", "4", "-R", "restore", check=False)
    error = f"error: results/checkpoint/{name}: {words}"
    logs = "the failed steps' logs: results/logs/restore/seed.log"
    assert_clear_failure(result, error, logs)
    said_logs, last = result.stderr.rstrip().splitlines()[-2:]
    assert said_logs == logs and last.startswith(error), (said_logs, last)
    assert report.stat().st_mtime_ns == before, "a report was written from damaged data"


@pytest.mark.parametrize(
    ("path", "words", "rerun"),
    [
        # A values file is in restore's output folder, whose time a changed file leaves as it
        # was: the steps that read it run again when told to.
        (
            f"results/values/seed/{RESTORES}.npz",
            f"{RESTORES}.npz: not a complete values file",
            ["-R", "extract"],
        ),
        ("results/slices/seed.csv", "seed.csv: cut short", []),
    ],
    ids=["values file", "slice CSV"],
)
def test_a_cut_short_intermediate_file_is_refused(pipeline, tmp_path, path, words, rerun):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    truncate(workdir / path)
    # The probes figure reads the slice CSV beside the report, not after it.
    followers = [workdir / "results" / p for p in ("report.csv", "figures/seed/probes.png")]
    before = {follower: follower.stat().st_mtime_ns for follower in followers}
    result = snakemake(workdir, "--cores", "4", *rerun, check=False)
    assert_clear_failure(result, words)
    # Snakemake removes the outputs of a job it reruns; no new one may come from bad data.
    for follower in followers:
        assert not follower.exists() or follower.stat().st_mtime_ns == before[follower]


def test_a_crafted_graph_is_refused_before_it_runs(pipeline, tmp_path):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    target = tmp_path / "written.txt"
    add_a_write_to_an_initializer(workdir / "results" / "checkpoint" / "model.ckpt.meta", target)
    # The restore job alone (export and load read the same files and fail the same way).
    result = snakemake(workdir, "results/values/seed", "--cores", "4", "-R", "restore", check=False)
    assert_clear_failure(
        result,
        "error: results/checkpoint/model.ckpt.meta: refused, restoring would run "
        "conv_1/kernel/Assign <- crafted_write: WriteFile writes files",
    )
    assert not target.exists()
