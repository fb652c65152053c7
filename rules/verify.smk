rule verify:
    input:
        **code("verify"),
        report="results/report.csv",
        variables="results/variables.csv",
        inference="results/inference.csv",
        compatibility="results/compatibility.csv",
    output:
        VERIFIED,
    log:
        "results/logs/verify.log",
    benchmark:
        "results/benchmarks/verify.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=configuration.verify_settings(config),
    shell:
        logged(
            "python {input.script} --settings {params.settings:q} --report {input.report}"
            " --variables {input.variables} --inference {input.inference}"
            " --compatibility {input.compatibility} --output {output}"
        )
