rule verify:
    input:
        **code("verify"),
        report="results/report.csv",
        variables="results/variables.csv",
        inference="results/inference.csv",
    output:
        VERIFIED,
    log:
        "results/logs/verify.log",
    benchmark:
        "results/benchmarks/verify.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged(
            "python {input.script} --report {input.report} --variables {input.variables}"
            " --inference {input.inference} --output {output}"
        )
