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
