"""Each step's settings, defined once: a class per step whose fields are the keys of its
`--settings` JSON, each with what it means. The class gives the step's `--help`, the check of
its `--settings` (exactly these keys: `cli.load_settings`), and the Snakefile's settings files:
the functions below build one from the checked config (`configuration.py`), so a setting the
config gives and the step does not take (or the reverse) fails when the Snakefile loads, not
when the step runs.
Pure Python: the Snakefile uses it without importing TensorFlow."""

import dataclasses
import importlib.metadata
import json

from ckptorder import orderings
from ckptorder.formats import ckpt


def setting(meaning):
    return dataclasses.field(metadata={"meaning": meaning})


class StepSettings:
    @classmethod
    def meanings(cls):
        """Each key and what it means, in the order of the fields."""
        return {field.name: field.metadata["meaning"] for field in dataclasses.fields(cls)}

    def dump(self):
        """The settings as one JSON value with sorted keys: Snakemake compares params by value
        alone, so equal settings must give the same text."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


@dataclasses.dataclass(frozen=True)
class BuildSettings(StepSettings):
    seed: int = setting("graph seed and synthetic data seed")
    steps: int = setting("SGD steps before saving")
    learning_rate: float = setting("SGD learning rate")
    batch_size: int = setting("synthetic examples per step")
    threads: int = setting("training's intra- and inter-op thread count (it changes the bytes)")
    extra_layers: list = setting("filter counts of conv layers added after conv_3")
    tensorflow: str = setting("TensorFlow's version (not read: a change of it reruns build)")


@dataclasses.dataclass(frozen=True)
class RestoreSettings(StepSettings):
    checkpoint: str = setting("the checkpoint's name (for messages)")
    orderings: list = setting(f"a list of {', '.join(ckpt.ORDERINGS)}")
    partial_variables: list = setting(
        "the variables a partial restore restores (null without partial_restore)"
    )
    moving_averages: str = setting(
        "the ExponentialMovingAverage's name, whose shadows restore_moving_averages restores"
        " (null without it)"
    )
    trust: bool = setting(
        "run the graph even where the guard refuses it (for a checkpoint you trust)"
    )
    output_tensor: str = setting("the built network's output, for the inference check (null: none)")


@dataclasses.dataclass(frozen=True)
class NamesSettings(StepSettings):
    checkpoint: str = setting("the checkpoint's name (for messages)")
    probes: list = setting("list of {tensor, slice}: each must be a variable of the graph")
    partial_variables: list = setting(
        "the variables a partial restore restores, each of the graph (null: none)"
    )
    moving_averages: str = setting(
        "the ExponentialMovingAverage's name, the last part of some of the checkpoint's keys"
        " (null: none)"
    )


@dataclasses.dataclass(frozen=True)
class ExportSettings(StepSettings):
    format: str = setting(f"one of {', '.join(orderings.EXPORTED_FORMATS)}")
    seed: int = setting("the seed of the object_ckpt network's initializers and optimizer batch")
    extra_layers: list = setting(
        "filter counts of conv layers added after conv_3 (the network's output)"
    )
    trust: bool = setting(
        "run the graph even where the guard refuses it (for a checkpoint you trust)"
    )


@dataclasses.dataclass(frozen=True)
class LoadSettings(StepSettings):
    checkpoint: str = setting("the name of what is loaded (for messages)")
    format: str = setting(f"one of {', '.join(orderings.EXPORTED_FORMATS)}")
    seed: int = setting("the seed of the object_ckpt network's initializers")
    extra_layers: list = setting(
        "filter counts of conv layers added after conv_3 (the object_ckpt network)"
    )
    orderings: list = setting("a list of the format's orderings, VARIANT.LOAD")
    output_tensor: str = setting("the network's output, for the inference check")
    trust: bool = setting(
        "run what the guard refuses of a file (else that ordering fails, refused)"
    )


@dataclasses.dataclass(frozen=True)
class SavedModelSettings(StepSettings):
    checkpoint: str = setting("the SavedModel's name (for messages)")
    orderings: list = setting(
        f"a list of {', '.join(orderings.GIVEN_SAVEDMODEL.orderings)}: KIND.LOAD, one kind"
    )
    trust: bool = setting("load it even where the guard refuses it (else every load fails)")
    tags: list = setting(
        "the tag set of the meta graph to load; null for the one tagged serve, or the only one"
    )


@dataclasses.dataclass(frozen=True)
class ObjectCheckpointSettings(StepSettings):
    checkpoint: str = setting("the TF2 checkpoint's name (for messages)")
    orderings: list = setting(
        f"a list of {', '.join(orderings.GIVEN_OBJECT_CKPT.orderings)} (tf2. for a TF2"
        " checkpoint, tf1. for a TF1 one); none without a model"
    )
    model: str = setting(
        "FILE.py:FUNCTION, the function that builds what to restore into (a trackable, or a"
        " dict of them); null to list the checkpoint alone"
    )
    trust: bool = setting("run the model's code (without it, a model is refused)")


@dataclasses.dataclass(frozen=True)
class ExtractSettings(StepSettings):
    checkpoint: str = setting("the checkpoint's name (for messages)")
    states: list = setting(
        "the states to read, saved and initial first, each from STATE.npz in --values"
    )
    probes: list = setting(
        "list of {tensor, slice}: a variable name and a numpy basic-indexing slice"
    )


@dataclasses.dataclass(frozen=True)
class ReportSettings(StepSettings):
    checkpoints: list = setting(
        "list of {name, checkpoint, format, run, step, orderings, partial_variables, expected,"
        " probes}, in the order of --slices and --values (name: its files', checkpoint: the"
        " report's); expected null for a checkpoint reported but not judged, run and step null"
        " but for a checkpoint of a training run's folder"
    )
    config: dict = setting("the config, recorded in the provenance file")
    snakemake: str = setting("Snakemake's version, recorded in the provenance file")


@dataclasses.dataclass(frozen=True)
class VerifySettings(StepSettings):
    outside: list = setting(
        "the checkpoints from outside (report's names): their variables are counted per outcome"
    )
    skipped: dict = setting(
        "checkpoint to the orderings it does not run (its entry lacks a setting they need)"
    )


def installed_version(package):
    """The installed version, read from the package's metadata without importing it."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# Each step's `--settings` value, from a checked config (`step_settings.py` defines each). A
# setting a step is given is one whose change reruns it, so each step gets just what it uses
# (the report keeps the whole config for provenance.json).


def build_settings(config):
    """build's settings; TensorFlow's version is one, since it changes the trained bytes."""
    return BuildSettings(
        seed=config["seed"],
        tensorflow=installed_version("tensorflow"),
        extra_layers=config["model"]["extra_layers"],
        **config["train"],
    ).dump()


def restore_settings(checkpoint):
    """restore's settings for one checkpoint (an entry of a checked config's `checkpoints`):
    the partial Saver's variables and the moving averages' name only where an ordering it runs
    uses them."""
    needed = {s for o in checkpoint["orderings"] for s in orderings.needed_settings(o)}
    return RestoreSettings(
        checkpoint=checkpoint["name"],
        orderings=checkpoint["orderings"],
        partial_variables=(
            checkpoint["partial_variables"] if "partial_restore" in needed else None
        ),
        moving_averages=(checkpoint["moving_averages"] if "moving_averages" in needed else None),
        trust=checkpoint["trust"],
        output_tensor=checkpoint["output_tensor"],
    ).dump()


def names_settings(checkpoint):
    """names' settings for one checkpoint from outside: what of its entry names variables."""
    return NamesSettings(
        checkpoint=checkpoint["name"],
        probes=checkpoint["probes"],
        partial_variables=checkpoint["partial_variables"],
        moving_averages=checkpoint["moving_averages"],
    ).dump()


def export_settings(config, built):
    """export's settings for one format of the built model (an entry of `checkpoints`)."""
    return ExportSettings(
        format=built["format"],
        seed=config["seed"],
        extra_layers=config["model"]["extra_layers"],
        trust=built["trust"],
    ).dump()


def loading_settings(config, loaded):
    """load's settings for the built model in one format (an entry of `checkpoints`)."""
    return LoadSettings(
        checkpoint=loaded["name"],
        format=loaded["format"],
        seed=config["seed"],
        extra_layers=config["model"]["extra_layers"],
        orderings=loaded["orderings"],
        output_tensor=loaded["output_tensor"],
        trust=loaded["trust"],
    ).dump()


def savedmodel_step_settings(checkpoint):
    """load_savedmodel's settings for a SavedModel's folder from outside."""
    return SavedModelSettings(
        checkpoint=checkpoint["name"],
        orderings=checkpoint["orderings"],
        trust=checkpoint["trust"],
        tags=checkpoint["tags"],
    ).dump()


def object_checkpoint_step_settings(checkpoint):
    """load_object_checkpoint's settings for a TF2 checkpoint from outside."""
    return ObjectCheckpointSettings(
        checkpoint=checkpoint["name"],
        orderings=checkpoint["orderings"],
        model=checkpoint["model"],
        trust=checkpoint["trust"],
    ).dump()


def extract_settings(checkpoint):
    return ExtractSettings(
        checkpoint=checkpoint["name"],
        states=orderings.states(checkpoint["orderings"]),
        probes=checkpoint["probes"],
    ).dump()


REPORTED = (
    *("name", "checkpoint", "format", "run", "step", "orderings", "partial_variables"),
    *("expected", "probes"),
)


def report_settings(config):
    return ReportSettings(
        checkpoints=[
            {key: checkpoint[key] for key in REPORTED} for checkpoint in config["checkpoints"]
        ],
        config=config,
        snakemake=installed_version("snakemake"),
    ).dump()


def verify_settings(config):
    checkpoints = config["checkpoints"]
    return VerifySettings(
        outside=list(dict.fromkeys(c["checkpoint"] for c in checkpoints if not c["built"])),
        skipped={c["checkpoint"]: c["skipped"] for c in checkpoints if c["skipped"]},
    ).dump()
