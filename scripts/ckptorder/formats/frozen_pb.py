"""The built model as a frozen GraphDef, one `VARIANT.pb` per way of freezing it (the steps of
the session its variables were folded in), loaded with import_graph_def (`ImportGraphDef`,
which `loading` carries out)."""

from dataclasses import dataclass

from ckptorder.formats import VARIANT_STEPS, Format, Ordering, exported_orderings


@dataclass(frozen=True)
class ImportGraphDef:
    """import_graph_def of the variant's GraphDef: each variable is a constant of its name."""

    runs_init_op = False


VARIANTS = {
    "after_restore": Ordering(
        ("restore_all",),
        "variables folded into constants in a session that restored the checkpoint",
    ),
    "after_restore_then_init": Ordering(
        ("restore_all", "initialize_all"),
        "folded after restore, then the initializers (freeze_graph's --initializer_nodes)",
    ),
}
LOADS = {
    "import_graph_def": Ordering(
        (VARIANT_STEPS,),
        "import_graph_def: the constants hold what the frozen session held",
        run=ImportGraphDef(),
    ),
}
FORMAT = Format(
    "The built model as a frozen GraphDef, per way of freezing it",
    VARIANTS,
    exported_orderings(VARIANTS, LOADS),
    export="exporting:export_frozen",
    load="loading:audit_exported",
)
