# Both figures come from one script, so each rule's code is the same.


rule probes_figure:
    input:
        **code("figures"),
        slices=[slices_file(state) for state in STATES],
    output:
        report("results/figures/probes.png", caption="../report/probes.rst", category="Figures"),
    log:
        "results/logs/probes_figure.log",
    benchmark:
        "results/benchmarks/probes_figure.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged("python {input.script} probes --slices {input.slices} --output {output}")


rule outcomes_figure:
    input:
        **code("figures"),
        variables="results/variables.csv",
    output:
        report("results/figures/outcomes.png", caption="../report/outcomes.rst", category="Figures"),
    log:
        "results/logs/outcomes_figure.log",
    benchmark:
        "results/benchmarks/outcomes_figure.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged("python {input.script} outcomes --variables {input.variables} --output {output}")
