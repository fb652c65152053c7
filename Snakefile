from snakemake.utils import min_version

min_version("9.27")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/build.smk"
include: "rules/restore.smk"
include: "rules/formats.smk"
include: "rules/extract.smk"
include: "rules/report.smk"
include: "rules/verify.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        VERIFIED,
        [figure_file(name, "outcomes") for name, entry in CHECKPOINTS.items() if entry["orderings"]],
        [figure_file(name, "probes") for name, entry in CHECKPOINTS.items() if entry["probes"]],
        [figure_file(run, "trajectory") for run in RUNS],
