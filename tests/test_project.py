"""The project's own files agree with each other, and every step stands alone."""

import re
import subprocess
import sys

import pytest
import yaml

from ckptorder.formats import ckpt
from conftest import PROJECT, STEPS


@pytest.mark.parametrize("script", STEPS)
def test_each_step_runs_alone_with_help(script):
    result = subprocess.run(
        [sys.executable, str(PROJECT / "scripts" / f"{script}.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("usage:")


def pins(lines):
    return dict(re.findall(r"^\s*-?\s*([A-Za-z0-9_.-]+)==(\S+)", "\n".join(lines), re.M))


def test_conda_env_pins_match_requirements():
    required = pins((PROJECT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((PROJECT / "envs" / "pipeline.yaml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    env_pins = pins(pip_section)
    assert env_pins, "the conda env pins nothing"
    for package, version in env_pins.items():
        assert required.get(package) == version, package


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", "Snakefile", "rules"],
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_code_is_linted_and_formatted(command):
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_lists_every_ordering_in_order():
    """The README's table of orderings follows ckpt.ORDERINGS, the one list of them."""
    readme = (PROJECT / "README.md").read_text()
    table = readme.split("| ordering | steps | outcome |", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, re.M)
    assert listed == list(ckpt.ORDERINGS)
