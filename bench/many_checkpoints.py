"""The benchmark's measure of what each added checkpoint costs: cold runs of the default config
plus N checkpoints from outside (copies of one built checkpoint, each an entry of its own), for
two values of N; the slope of wall time against N."""

import shutil
import statistics

import yaml

from commands import fresh_copy, snakemake, timed
from default_model import interleaved

COUNTS = (5, 20)


def built_checkpoint(root):
    """The folder of a checkpoint the pipeline's build step made."""
    workdir = fresh_copy(root, "source")
    timed(snakemake("--cores", "4", "results/checkpoint/checkpoint"), workdir)
    return workdir / "results" / "checkpoint"


def with_outside_checkpoints(root, count, run, source):
    """A fresh copy of the project whose config adds `count` copies of `source`."""
    workdir = fresh_copy(root, f"many-{count}-{run}")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    for n in range(count):
        name = f"outside_{n:02d}"
        folder = workdir / "outside" / name
        folder.mkdir(parents=True)
        for path in source.glob("model.ckpt.*"):
            shutil.copy(path, folder / path.name)
        config["checkpoints"].append({"name": name, "prefix": f"outside/{name}/model.ckpt"})
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def measure(root, repeat):
    source = built_checkpoint(root)
    runs = interleaved(
        repeat,
        {
            f"T_cold (+{count} checkpoints)": lambda run, count=count: timed(
                snakemake("--cores", "4"), with_outside_checkpoints(root, count, run, source)
            )
            for count in COUNTS
        },
    )
    results = {name: statistics.median(times) for name, times in runs.items()}
    few, many = (results[f"T_cold (+{count} checkpoints)"] for count in COUNTS)
    results["seconds per added checkpoint"] = (many - few) / (COUNTS[1] - COUNTS[0])
    return results
