import sys

import snakemake
from snakemake.utils import min_version

min_version("9.27")


configfile: "config.yaml"


include: "rules/common.smk"


report: "report/workflow.rst"


problems = config_problems(config, "schemas/config.schema.yaml")
if problems:
    sys.exit("\n".join(f"config error: {problem}" for problem in problems))


onstart:
    handle_sigterm_in_a_thread()


onsuccess:
    cancel_rescheduling_timers()


onerror:
    cancel_rescheduling_timers()


wildcard_constraints:
    ordering="|".join(config["orderings"]),
    state="|".join(every_state()),


rule all:
    input:
        "results/verified.txt",
        "results/figures/probes.png",
        "results/figures/outcomes.png",


rule build:
    input:
        script="scripts/build.py",
        modules=[
            "scripts/network.py",
            "scripts/cli.py",
            "scripts/tfsession.py",
            "scripts/values.py",
            "scripts/atomic.py",
        ],
    output:
        checkpoint=CHECKPOINT_FILES,
        state="results/checkpoint/checkpoint",
        initial=values_file("initial"),
        saved=values_file("saved"),
    log:
        "results/logs/build.log",
    benchmark:
        "results/benchmarks/build.tsv"
    conda:
        "envs/pipeline.yaml"
    # Training's own thread count is a setting: the count changes the trained bytes.
    threads: config["train"]["threads"]
    params:
        settings=build_settings(),
        prefix=lambda wildcards, output: checkpoint_prefix(output.checkpoint),
    shell:
        "python {input.script} --settings {params.settings:q} --checkpoint {params.prefix}"
        " --initial {output.initial} --saved {output.saved} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"


rule restore:
    input:
        script="scripts/restore.py",
        modules=[
            "scripts/orderings.py",
            "scripts/cli.py",
            "scripts/tfsession.py",
            "scripts/values.py",
            "scripts/atomic.py",
        ],
        checkpoint=CHECKPOINT_FILES,
        saved=values_file("saved"),
        initial=values_file("initial"),
    output:
        values_file("{ordering}"),
    log:
        "results/logs/restore/{ordering}.log",
    benchmark:
        "results/benchmarks/restore/{ordering}.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    params:
        settings=restore_settings,
        prefix=lambda wildcards, input: checkpoint_prefix(input.checkpoint),
    shell:
        "python {input.script} --settings {params.settings:q} --checkpoint {params.prefix}"
        " --saved {input.saved} --initial {input.initial} --output {output}"
        " --threads {threads} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"


rule extract:
    input:
        script="scripts/extract.py",
        modules=[
            "scripts/network.py",
            "scripts/slices.py",
            "scripts/cli.py",
            "scripts/values.py",
            "scripts/atomic.py",
        ],
        values=values_file("{state}"),
        saved=values_file("saved"),
        initial=values_file("initial"),
    output:
        "results/slices/{state}.csv",
    log:
        "results/logs/extract/{state}.log",
    benchmark:
        "results/benchmarks/extract/{state}.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    params:
        settings=settings_json(probes=config["probes"]),
    shell:
        "python {input.script} --state {wildcards.state} --values {input.values}"
        " --saved {input.saved} --initial {input.initial} --settings {params.settings:q}"
        " --output {output} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"


rule report:
    input:
        script="scripts/report.py",
        modules=[
            "scripts/network.py",
            "scripts/orderings.py",
            "scripts/slices.py",
            "scripts/cli.py",
            "scripts/values.py",
            "scripts/atomic.py",
        ],
        slices=expand("results/slices/{state}.csv", state=every_state()),
        values=[values_file(state) for state in every_state()],
    output:
        report=report("results/report.csv", caption="report/report_csv.rst", category="Tables"),
        variables=report(
            "results/variables.csv", caption="report/variables_csv.rst", category="Tables"
        ),
        provenance="results/provenance.json",
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    params:
        settings=report_settings(),
    shell:
        "python {input.script} --settings {params.settings:q} --slices {input.slices}"
        " --values {input.values} --report {output.report} --variables {output.variables}"
        " --provenance {output.provenance} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"


rule verify:
    input:
        script="scripts/verify.py",
        modules=["scripts/atomic.py"],
        report="results/report.csv",
        variables="results/variables.csv",
    output:
        "results/verified.txt",
    log:
        "results/logs/verify.log",
    benchmark:
        "results/benchmarks/verify.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    # The outcome table goes to the terminal as well as to the log.
    shell:
        "python {input.script} --report {input.report} --variables {input.variables}"
        " --output {output} 2>&1 | tee {log}"


rule probes_figure:
    input:
        script="scripts/figures.py",
        modules=FIGURE_MODULES,
        slices=expand("results/slices/{state}.csv", state=every_state()),
    output:
        report("results/figures/probes.png", caption="report/probes.rst", category="Figures"),
    log:
        "results/logs/probes_figure.log",
    benchmark:
        "results/benchmarks/probes_figure.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    shell:
        "python {input.script} probes --slices {input.slices} --output {output} > {log} 2>&1"
        " || (tail -n 1 {log} >&2; exit 1)"


rule outcomes_figure:
    input:
        script="scripts/figures.py",
        modules=FIGURE_MODULES,
        variables="results/variables.csv",
    output:
        report("results/figures/outcomes.png", caption="report/outcomes.rst", category="Figures"),
    log:
        "results/logs/outcomes_figure.log",
    benchmark:
        "results/benchmarks/outcomes_figure.tsv"
    conda:
        "envs/pipeline.yaml"
    threads: 1
    shell:
        "python {input.script} outcomes --variables {input.variables} --output {output}"
        " > {log} 2>&1 || (tail -n 1 {log} >&2; exit 1)"
