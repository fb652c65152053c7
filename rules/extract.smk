rule extract:
    input:
        **code("extract"),
        values=values_folder("{source}"),
    output:
        slices_file("{source}"),
    log:
        "results/logs/extract/{source}.log",
    benchmark:
        "results/benchmarks/extract/{source}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=lambda wildcards: configuration.extract_settings(CHECKPOINTS[wildcards.source]),
    shell:
        logged(
            "python {input.script} --values {input.values} --settings {params.settings:q}"
            " --output {output}"
        )
