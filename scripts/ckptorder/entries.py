"""The kinds of entry of the config's `checkpoints`, a class each: the model the pipeline builds
(`BuiltModel`), a TF1 checkpoint with its graph (`Tf1Checkpoint`), a checkpoint restored into
the model a function of the user's builds (`CheckpointIntoModel`: a TF2 one, or a TF1 one given
a model) and a SavedModel's folder (`SavedModelFolder`). Each says which settings of an entry
it takes (`TAKES`), turns its entry into the checkpoints' settings every step's own are read
off (`step_settings`), and checks them against its files or the model. `configuration` finds
an entry's kind by its files. A new entry setting is the schema's and one class's. No
TensorFlow."""

import os
from pathlib import Path

from ckptorder import checkpoint_files, network, orderings, slices
from ckptorder.formats import given_object_ckpt, given_savedmodel

# Where build saves the seed's network: the prefix of the checkpoint entry with build: true.
BUILT_PREFIX = "results/checkpoint/model.ckpt"


def and_list(names):
    return ", ".join(names[:-1]) + f" and {names[-1]}"


class Entry:
    """An entry of one kind: `entry`, as the config gives it; `common`, the settings every
    kind's checkpoints have (`configuration.checkpoint_settings`)."""

    # The settings an entry of the kind takes, and how a message names the kind and says why.
    TAKES = ()
    WHAT = ""

    def __init__(self, entry, common):
        self.entry, self.common = entry, common

    def settings_of(self, checkpoint):
        """A checkpoint's settings as its kind gives them."""
        return checkpoint

    def settings_not_taken(self, where):
        return [
            f"{where}.{name}: not for {self.WHAT}; give {and_list(self.TAKES)}"
            for name in self.entry
            if name not in self.TAKES
        ]

    def problems(self, config, where, settings):
        """What the schema can't check of one of the entry's checkpoints (`settings`)."""
        return self.settings_not_taken(where)


class BuiltModel(Entry):
    """The seed's network, built and trained by the pipeline: one checkpoint per format of the
    config's `formats`, its own named NAME, the others NAME.FORMAT, each running its format's
    orderings and judged (expected: what their steps leave)."""

    TAKES = ("name", "build", "orderings", "partial_restore", "probes", "expected", "trust")
    WHAT = "build: true, the model the pipeline builds, whose graph and files are its own"

    def checkpoints(self, config):
        checkpoint = {
            **self.common,
            "name": self.entry["name"],
            "checkpoint": self.entry["name"],
            "prefix": BUILT_PREFIX,
            "graph": f"{BUILT_PREFIX}.meta",
            "run": None,
            "step": None,
            "output_tensor": network.output_tensor(config["model"]["extra_layers"]),
        }
        return [
            checkpoint
            if format_ == "ckpt"
            else {
                **checkpoint,
                "name": f"{self.entry['name']}.{format_}",
                "format": format_,
                "orderings": orderings.format_orderings(format_),
                "partial_variables": [],
                "skipped": [],
                "expected": {},
            }
            for format_ in config["formats"]
        ]

    def problems(self, config, where, settings):
        """Its settings against the model: probes' names and index ranges, the partial
        Saver's variables, the variables `expected` names."""

        def key(name):
            return f"{where}.{name}" if name in self.entry else name

        shapes = network.variable_shapes(config["model"]["extra_layers"])
        problems = super().problems(config, where, settings)
        seen = set()
        for number, probe in enumerate(settings["probes"]):
            at = f"{key('probes')}[{number}]"
            try:
                variable = network.variable_name(probe["tensor"], shapes)
                slices.axis_indices(probe["slice"], shapes[variable])
            except ValueError as error:
                problems.append(f"{at}: {error}")
                continue
            if (variable, probe["slice"]) in seen:
                problems.append(f"{at}: probes {variable} {probe['slice']} twice")
            seen.add((variable, probe["slice"]))
        problems += [
            f"{key('partial_restore')}.variables: {name!r} is not a variable of the model; "
            f"it has: {', '.join(shapes)}"
            for name in settings["partial_variables"]
            if name not in shapes
        ]
        for ordering, override in settings["expected"].items():
            if ordering in settings["orderings"] and isinstance(override, dict):
                problems += [
                    f"{key('expected')}.{ordering}.{name}: not a variable of the model; it has:"
                    f" {', '.join(shapes)}"
                    for name in override
                    if name not in shapes
                ]
        return problems


class Tf1Checkpoint(Entry):
    """A TF1 checkpoint from outside with its `.meta` graph, restored under each ordering its
    entry's settings allow."""

    TAKES = (
        *("name", "prefix", "graph", "orderings", "partial_restore", "moving_averages"),
        *("probes", "expected", "trust"),
    )
    WHAT = "a TF1 checkpoint restored into its .meta graph"

    def problems(self, config, where, settings):
        problems = super().problems(config, where, settings)
        given = {
            "partial_restore": settings["partial_variables"],
            "moving_averages": settings["moving_averages"],
        }
        for name in lacking_settings(settings["orderings"], given):
            setting = next(s for s in orderings.needed_settings(name) if given[s] is None)
            problems.append(
                f"{where}.orderings: {name} needs {where}.{orderings.SETTING_MEANINGS[setting]};"
                " give it, or leave the ordering out"
            )
        return problems + missing_files(where, settings, settings["graph"])


class CheckpointIntoModel(Entry):
    """A checkpoint restored into the model its entry's function builds: a TF2 one
    (tf.train.Checkpoint's files), or a TF1 one given a model, read by name. Each ordering of
    its variant runs; none where the entry gives no model. No graph file is read."""

    TAKES = ("name", "prefix", "model", "trust", "expected")
    WHAT = (
        "a checkpoint restored into a model (a TF2 checkpoint, or one given a model), which is"
        " restored every way that applies"
    )

    def __init__(self, entry, common, variant):
        super().__init__(entry, common)
        self.variant = variant

    def settings_of(self, checkpoint):
        named = given_object_ckpt.variant_orderings(self.variant)
        model = checkpoint["model"]
        return {
            **cleared(checkpoint),
            "format": "object_ckpt",
            "graph": "",
            "orderings": named if model else [],
            "skipped": [] if model else named,
        }

    def problems(self, config, where, settings):
        """Also a model that is not on disk, or not trusted (it is code the run executes)."""
        problems = super().problems(config, where, settings)
        model = settings["model"]
        if model:
            path = model_file(model)
            if not Path(path).is_file():
                problems.append(f"{where}.model: {path}: no such file")
            elif not settings["trust"]:
                problems.append(
                    f"{where}.model: {model} is code the run executes: give trust: true (for"
                    " code you trust), or leave model out to list the checkpoint's objects alone"
                )
        return problems + missing_files(where, settings, None)


class SavedModelFolder(Entry):
    """A SavedModel's folder: each way of loading one of the kind its files show. Its graph is
    its own: no model, no graph file."""

    TAKES = ("name", "prefix", "trust", "expected", "tags")
    WHAT = "a SavedModel's folder, which is loaded every way that applies"

    def checkpoints(self, config):
        """Raises ValueError for a folder without variables."""
        kind = checkpoint_files.savedmodel_kind(self.entry["prefix"])
        return [
            {
                **cleared(self.common),
                "name": self.entry["name"],
                "checkpoint": self.entry["name"],
                "prefix": self.entry["prefix"],
                "graph": str(Path(self.entry["prefix"]) / checkpoint_files.SAVED_MODEL_FILE),
                "run": None,
                "step": None,
                "format": "savedmodel",
                "orderings": given_savedmodel.kind_orderings(kind),
                "skipped": [],
            }
        ]


def checkpoints_on_disk(entry, common):
    """The checkpoints of an entry whose prefix names checkpoint files, or a training run's
    folder (one checkpoint per checkpoint its state file lists that is on disk, named
    NAME-STEP: `run` and `step` say which; `absent_from_run` names the others), each with its
    kind: a TF1 checkpoint, or one restored into a model (its index holds an object graph, or
    the entry gives a model)."""
    prefix = entry["prefix"]
    listed = [(None, entry["name"], prefix)]
    other = checkpoint_files.other_kind(prefix, entry.get("graph", f"{prefix}.meta"))
    if other:
        raise ValueError(f"{other}; {checkpoint_files.TAKES}")
    if checkpoint_files.is_run_folder(prefix):
        members = present_or_all(checkpoint_files.listed_checkpoints(prefix))
        if len(members) == 1:  # a folder of one checkpoint: no training run to follow
            listed = [(None, entry["name"], members[0][1])]
        else:
            listed = [(step, f"{entry['name']}-{step}", member) for step, member in members]
    kinds = []
    for step, name, member in listed:
        settings = {
            **common,
            "name": name,
            "prefix": member,
            "graph": entry.get("graph", f"{member}.meta"),
            "checkpoint": name,
            "run": entry["name"] if step is not None else None,
            "step": step,
            "output_tensor": None,
        }
        if checkpoint_files.has_object_graph(f"{member}.index"):
            kind = CheckpointIntoModel(entry, common, "tf2")
        elif settings["model"]:
            kind = CheckpointIntoModel(entry, common, "tf1")
        else:
            kind = Tf1Checkpoint(entry, common)
        kinds.append((kind, kind.settings_of(settings)))
    return kinds


def present_or_all(members):
    """Of a run folder's listed checkpoints (step, prefix), those on disk: a run folder often
    ships its last checkpoints alone. All where none is (each then says what it lacks)."""
    return [(step, prefix) for step, prefix in members if on_disk(prefix)] or members


def on_disk(prefix):
    return os.path.isfile(f"{prefix}.index")


def absent_from_run(entry):
    """The checkpoints the state file of the entry's run folder lists that are not on disk,
    where others are (those are audited without them); none for any other entry."""
    prefix = entry.get("prefix")
    if not isinstance(prefix, str) or not checkpoint_files.is_run_folder(prefix):
        return []
    try:
        members = checkpoint_files.listed_checkpoints(prefix)
    except ValueError:  # no state file: a config error says so
        return []
    audited = present_or_all(members)
    return [member for step, member in members if (step, member) not in audited]


def cleared(settings):
    """`settings` of an entry from outside of a kind that reads no graph file of the user's:
    no output tensor, no probes, no partial Saver, no moving averages."""
    return {
        **settings,
        "output_tensor": None,
        "partial_variables": None,
        "moving_averages": None,
        "probes": [],
    }


def lacking_settings(names, given):
    """The orderings of `names` that need a setting `given` (setting to its value) lacks."""
    return [
        name
        for name in names
        if any(given[setting] is None for setting in orderings.needed_settings(name))
    ]


def missing_files(where, settings, graph):
    missing = checkpoint_files.missing_files(settings["prefix"], graph)
    if missing:
        return [f"{where}: {settings['name']}: no such file(s): {', '.join(missing)}"]
    return []


def model_file(model):
    """The file of a `model` setting, FILE.py:FUNCTION."""
    return model.rpartition(":")[0]
