"""Bad input and damaged files: one clear line, a non-zero exit, nothing produced from bad data."""

import shutil

import pytest
import yaml

from conftest import copy_project, run_restore, snakemake
from tfsession import CHECKPOINT_SUFFIXES


def assert_clear_failure(result, *words):
    shown = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in shown and 'File "' not in shown, shown
    for word in words:
        assert word in shown, f"{word!r} not in:\n{shown}"


def with_config(change):
    def edit(config):
        change(config)
        return config

    return edit


def set_key(*path_and_value):
    *path, value = path_and_value

    def change(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def probe(tensor=None, slice_=None):
    entry = {k: v for k, v in (("tensor", tensor), ("slice", slice_)) if v is not None}
    return set_key("probes", [entry])


ALLOWED_ORDERINGS = "allowed: init_then_restore, restore_then_init"
CONFIG_CASES = {
    "unknown top-level key": (
        set_key("sed", 1),
        ["(top level): unknown key(s) sed", "allowed: seed"],
    ),
    "misspelt nested key": (
        lambda c: c["train"].update(step=c["train"].pop("steps")),
        ["train: unknown key(s) step; allowed: steps, learning_rate"],
    ),
    "unknown ordering": (
        lambda c: c["orderings"].append("restore_twice"),
        ["orderings[8]: 'restore_twice' is not allowed", ALLOWED_ORDERINGS],
    ),
    "empty orderings": (set_key("orderings", []), ["orderings: [] should be non-empty"]),
    "duplicate ordering": (
        lambda c: c["orderings"].append("init_only"),
        ["orderings:", "has non-unique elements"],
    ),
    "seed not an integer": (set_key("seed", "abc"), ["seed: 'abc' is not of type 'integer'"]),
    "seed a float": (set_key("seed", 4.0), ["seed: 4.0 is not of type 'integer'"]),
    "seed negative": (set_key("seed", -1), ["seed: -1 is less than the minimum of 0"]),
    "seed too large": (
        set_key("seed", 2**31 - 1),
        ["seed: 2147483647 is greater than the maximum of 2147483646"],
    ),
    "steps zero": (set_key("train", "steps", 0), ["train.steps: 0 is less than the minimum of 1"]),
    "steps negative": (set_key("train", "steps", -3), ["train.steps: -3 is less than the minimum"]),
    "steps not an integer": (
        set_key("train", "steps", 2.5),
        ["train.steps: 2.5 is not of type 'integer'"],
    ),
    "learning rate zero": (
        set_key("train", "learning_rate", 0),
        ["train.learning_rate: 0 is less than or equal to the minimum of 0"],
    ),
    "learning rate negative": (
        set_key("train", "learning_rate", -0.1),
        ["train.learning_rate: -0.1 is less than or equal to the minimum of 0"],
    ),
    "probe without tensor": (probe(slice_="[0]"), ["probes[1]: 'tensor' is a required property"]),
    "probe without slice": (
        probe(tensor="conv_1/kernel"),
        ["probes[1]: 'slice' is a required property"],
    ),
    "slice unclosed": (probe("conv_1/kernel", "[1, :, :"), ["probes[1]: slice '[1, :, :'"]),
    "slice not a number": (probe("conv_1/kernel", "[a]"), ["cannot read 'a'", "allowed are"]),
    "slice code": (probe("conv_1/kernel", "__import__('os')"), ["must be written in brackets"]),
    "slice too many indices": (
        probe("conv_1/bias", "[1, 2]"),
        ["has 2 indices but the tensor has 1 dimensions (shape [32])"],
    ),
    "index out of range": (
        probe("conv_1/kernel", "[3, :, :, 1]"),
        ["index 3 is out of range for axis 0 of size 3 (allowed -3..2)"],
    ),
    "step of zero": (probe("conv_1/kernel", "[::0]"), ["step of '::0' must not be 0"]),
    "unknown tensor": (
        probe("conv_9/kernel", "[0]"),
        ["tensor 'conv_9/kernel' is not in the model; it has: conv_1/kernel, conv_1/bias"],
    ),
    "unknown partial variable": (
        set_key("partial_restore", "variables", ["conv_1/weights"]),
        ["partial_restore.variables: 'conv_1/weights' is not a variable of the model"],
    ),
    "expected word not allowed": (
        set_key("expected", {"init_only": "wiped"}),
        ["expected.init_only: 'wiped' is not allowed", "restored, reinitialized, changed"],
    ),
    "expected for an ordering not run": (
        lambda c: (c["orderings"].remove("init_only"), c.update(expected={"init_only": "changed"})),
        ["expected.init_only: not an ordering this config runs"],
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


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


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
REPAIRED = {"data byte flipped", "meta junk"}


def result_files(workdir):
    results = workdir / "results"
    paths = [results / "report.csv", results / "variables.csv", *results.glob("slices/*.csv")]
    return {p.relative_to(workdir): p.read_bytes() for p in paths}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_fails_restore_naming_the_file(pipeline, tmp_path, case):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    name, damage, words = DAMAGE[case]
    damaged = workdir / "results" / "checkpoint" / name
    damage(damaged)
    report = workdir / "results" / "report.csv"
    before = report.stat().st_mtime_ns
    result = snakemake(workdir, "--cores", "4", "-R", "restore", check=False)
    assert_clear_failure(result, f"error: results/checkpoint/{name}: {words}")
    assert report.stat().st_mtime_ns == before, "a report was written from damaged data"
    if case in REPAIRED:
        snakemake(workdir, "--cores", "4", "-R", "build")
        assert result_files(workdir) == result_files(pipeline)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("results/values/restore_only.npz", "restore_only.npz: not a complete values file"),
        ("results/slices/init_only.csv", "init_only.csv: cut short"),
    ],
    ids=["values file", "slice CSV"],
)
def test_a_cut_short_intermediate_file_is_refused(pipeline, tmp_path, path, words):
    workdir = tmp_path / "project"
    shutil.copytree(pipeline, workdir)
    truncate(workdir / path)
    # The probes figure reads the slice CSVs beside the report, not after it.
    followers = [workdir / "results" / p for p in ("report.csv", "figures/probes.png")]
    before = {follower: follower.stat().st_mtime_ns for follower in followers}
    result = snakemake(workdir, "--cores", "4", check=False)
    assert_clear_failure(result, words)
    # Snakemake removes the outputs of a job it reruns; no new one may come from bad data.
    for follower in followers:
        assert not follower.exists() or follower.stat().st_mtime_ns == before[follower]


@pytest.mark.parametrize("suffix", CHECKPOINT_SUFFIXES)
def test_restore_names_a_missing_checkpoint_file(built, tmp_path, capsys, suffix):
    checkpoint = tmp_path / "ckpt"
    shutil.copytree(built / "ckpt", checkpoint)
    (checkpoint / f"model.ckpt{suffix}").unlink()
    output = tmp_path / "out.npz"
    with pytest.raises(SystemExit) as exit_:
        run_restore("restore_only", checkpoint / "model.ckpt", built, output)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"checkpoint file(s) missing: {checkpoint}/model.ckpt{suffix}" in err
    assert not output.exists()
