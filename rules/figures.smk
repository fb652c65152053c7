# The figures come from one script, so each rule's code is the same.


rule probes_figure:
    input:
        **code("figures"),
        slices=slices_file("{source}"),
        values=values_folder("{source}"),
    output:
        report(
            figure_file("{source}", "probes"),
            caption="../report/probes.rst",
            category="Figures",
            subcategory="{source}",
        ),
    log:
        "results/logs/probes_figure/{source}.log",
    benchmark:
        "results/benchmarks/probes_figure/{source}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged(
            "python {input.script} probes --name {wildcards.source}"
            " --slices {input.slices} --values {input.values} --output {output}"
        )


rule outcomes_figure:
    input:
        **code("figures"),
        variables="results/variables.csv",
    output:
        report(
            figure_file("{source}", "outcomes"),
            caption="../report/outcomes.rst",
            category="Figures",
            subcategory="{source}",
        ),
    log:
        "results/logs/outcomes_figure/{source}.log",
    benchmark:
        "results/benchmarks/outcomes_figure/{source}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        checkpoint=lambda wildcards: CHECKPOINTS[wildcards.source]["checkpoint"],
        format=lambda wildcards: CHECKPOINTS[wildcards.source]["format"],
    shell:
        logged(
            "python {input.script} outcomes --name {params.checkpoint} --format"
            " {params.format} --variables {input.variables} --output {output}"
        )


rule trajectory_figure:
    input:
        **code("figures"),
        trajectory=TRAJECTORY,
    output:
        report(
            figure_file("{run}", "trajectory"),
            caption="../report/trajectory.rst",
            category="Figures",
            subcategory="{run}",
        ),
    log:
        "results/logs/trajectory_figure/{run}.log",
    benchmark:
        "results/benchmarks/trajectory_figure/{run}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged(
            "python {input.script} trajectory --run {wildcards.run}"
            " --trajectory {input.trajectory} --output {output}"
        )
