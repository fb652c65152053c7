rule report:
    input:
        **code("report"),
        slices=[slices_file(state) for state in STATES],
        values=[values_file(state) for state in STATES],
    output:
        report=report("results/report.csv", caption="../report/report_csv.rst", category="Tables"),
        variables=report(
            "results/variables.csv", caption="../report/variables_csv.rst", category="Tables"
        ),
        provenance="results/provenance.json",
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=configuration.report_settings(config),
    shell:
        logged(
            "python {input.script} --settings {params.settings:q} --slices {input.slices}"
            " --values {input.values} --report {output.report} --variables {output.variables}"
            " --provenance {output.provenance}"
        )


rule verify:
    input:
        **code("verify"),
        report="results/report.csv",
        variables="results/variables.csv",
    output:
        "results/verified.txt",
    log:
        "results/logs/verify.log",
    benchmark:
        "results/benchmarks/verify.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    # The outcome table goes to the terminal as well as to the log.
    shell:
        "python {input.script} --report {input.report} --variables {input.variables}"
        " --output {output} 2>&1 | tee {log}"
