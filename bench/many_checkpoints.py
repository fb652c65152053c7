"""The benchmark's measure of what each added checkpoint costs: cold runs of the default config
plus a training run's folder of N checkpoints (made here as users make theirs), for two values
of N; the slope of wall time against N."""

import statistics
from pathlib import Path

import yaml

from commands import fresh_copy, snakemake, timed  # first: it puts scripts/ on the path

# isort: split
from ckptorder import building
from ckptorder.tfsession import tf
from default_model import interleaved

COUNTS = (5, 20)


def built_checkpoint(root):
    """The prefix of a checkpoint the pipeline's build step made."""
    workdir = fresh_copy(root, "source")
    timed(snakemake("--cores", "4", "results/checkpoint/checkpoint"), workdir)
    return workdir / "results" / "checkpoint" / "model.ckpt"


def training_run(source, folder, steps):
    """A training run's folder: the training of checkpoint `source` continued for `steps` SGD
    steps, a checkpoint saved after each, all of them listed in the folder's state file."""
    with tf.Graph().as_default():
        restorer = tf.compat.v1.train.import_meta_graph(f"{source}.meta")
        saver = tf.compat.v1.train.Saver(max_to_keep=steps)  # None would list only the last
        batches = building.synthetic_batches(seed=1, steps=steps, batch_size=4, extra_layers=[])
        with tf.compat.v1.Session() as sess:
            restorer.restore(sess, str(source))
            for step, (inputs, targets) in enumerate(batches, start=1):
                sess.run("train", {"input:0": inputs, "target:0": targets})
                saver.save(sess, str(folder / "model.ckpt"), global_step=step)
    return folder


def with_training_run(root, count, run, folder):
    """A fresh copy of the project whose config adds the run folder of `count` checkpoints."""
    workdir = fresh_copy(root, f"many-{count}-{run}")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["checkpoints"].append({"name": "run", "prefix": str(folder)})
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def measure(root, repeat):
    source = built_checkpoint(root)
    folders = {count: training_run(source, Path(root) / f"run-{count}", count) for count in COUNTS}
    runs = interleaved(
        repeat,
        {
            f"T_cold (+{count} checkpoints)": lambda run, count=count: timed(
                snakemake("--cores", "4"), with_training_run(root, count, run, folders[count])
            )
            for count in COUNTS
        },
    )
    results = {name: statistics.median(times) for name, times in runs.items()}
    few, many = (results[f"T_cold (+{count} checkpoints)"] for count in COUNTS)
    results["seconds per added checkpoint"] = (many - few) / (COUNTS[1] - COUNTS[0])
    return results
