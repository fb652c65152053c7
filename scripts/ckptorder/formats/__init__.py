"""The formats this pipeline audits, one module each: the built model's checkpoint (`ckpt`),
the built model written as a TF1 SavedModel (`savedmodel`), as a frozen GraphDef
(`frozen_pb`) and as TF2's tf.train.Checkpoint (`object_ckpt`), and what a user brings: a
SavedModel (`given_savedmodel`) or a checkpoint restored into the user's model
(`given_object_ckpt`). Each module owns its variants and orderings: every ordering carries its
steps (`orderings.STEPS`, from which its expected outcomes follow), what it does, and `run`,
what its load calls, which the format's TensorFlow module carries out as it is written there;
nothing else names an ordering. Adding an ordering to a format, or a format, is an entry in its
module (and its docs row). Pure Python, importing nothing of the package: `orderings` gathers
the formats, and the Snakefile reads them without TensorFlow."""

from typing import NamedTuple

# In a load of an exported format, what the variant's file brings: the steps it was written with
# (a SavedModel's init op runs them; a frozen GraphDef's constants hold what they left).
# `exported_orderings` puts the variant's steps in its place.
VARIANT_STEPS = "variant_steps"


class Ordering(NamedTuple):
    """One ordering: its steps (keys of `orderings.STEPS`, or VARIANT_STEPS), what it does,
    what each status check gives in TensorFlow 2.21 for an object_ckpt ordering (docs/tf2.md;
    verify flags a run that differs), and `run`: what the load calls (one of its format's
    calls; none where the steps are run one by one, as restore does)."""

    steps: tuple
    description: str
    status: tuple = ()
    run: object = None


class Format(NamedTuple):
    """One format: verify's title of its table, its variants (name: the Ordering of the session
    it was written from, or what it is), its orderings (name: Ordering) and the functions that
    carry it out ("module:function" of ckptorder: export's writer and load's audit; none for a
    checkpoint, which restore audits)."""

    title: str
    variants: dict
    orderings: dict
    export: str = ""
    load: str = ""


def exported_orderings(variants, loads):
    """VARIANT.LOAD for every variant and load of an exported format: the load's steps with
    the variant's in place of VARIANT_STEPS."""
    return {
        f"{variant}.{load}": with_variant_steps(how, written.steps)._replace(
            description=f"{written.description}; {how.description}"
        )
        for variant, written in variants.items()
        for load, how in loads.items()
    }


def with_variant_steps(load, steps):
    """The Ordering `load` with `steps` in place of VARIANT_STEPS."""
    return load._replace(
        steps=tuple(
            step
            for written in load.steps
            for step in (steps if written == VARIANT_STEPS else (written,))
        )
    )
