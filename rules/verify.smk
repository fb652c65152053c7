rule verify:
    input:
        **code("verify"),
        report="results/report.csv",
        variables="results/variables.csv",
        inference="results/inference.csv",
        compatibility="results/compatibility.csv",
        settings=settings_file("verify", "verify", step_settings.verify_settings(config)),
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
            "python {input.script} --settings @{input.settings:q} --report {input.report}"
            " --variables {input.variables} --inference {input.inference}"
            " --compatibility {input.compatibility} --output {output}"
        )
