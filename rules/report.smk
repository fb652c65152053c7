rule report:
    input:
        **code("report"),
        slices=[slices_file(name) for name in CHECKPOINTS],
        values=[values_folder(name) for name in CHECKPOINTS],
        settings=settings_file("report", "report", step_settings.report_settings(config)),
    output:
        report=report("results/report.csv", caption="../report/report_csv.rst", category="Tables"),
        variables=report(
            "results/variables.csv", caption="../report/variables_csv.rst", category="Tables"
        ),
        compatibility=report(
            "results/compatibility.csv",
            caption="../report/compatibility_csv.rst",
            category="Tables",
        ),
        trajectory=TRAJECTORY,
        inference=report(
            "results/inference.csv", caption="../report/inference_csv.rst", category="Tables"
        ),
        provenance="results/provenance.json",
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged(
            "python {input.script} --settings @{input.settings:q} --slices {input.slices}"
            " --values {input.values} --report {output.report} --variables {output.variables}"
            " --compatibility {output.compatibility} --trajectory {output.trajectory}"
            " --inference {output.inference}"
            " --provenance {output.provenance}"
        )
