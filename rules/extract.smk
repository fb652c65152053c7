rule extract:
    input:
        **code("extract"),
        values=values_folder("{source}"),
        settings=lambda wildcards: settings_file(
            "extract",
            wildcards.source,
            step_settings.extract_settings(CHECKPOINTS[wildcards.source]),
        ),
    output:
        slices_file("{source}"),
    log:
        "results/logs/extract/{source}.log",
    benchmark:
        "results/benchmarks/extract/{source}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    shell:
        logged(
            "python {input.script} --values {input.values} --settings @{input.settings:q}"
            " --output {output}"
        )
