rule extract:
    input:
        **code("extract"),
        values=values_folder("{checkpoint}"),
    output:
        slices_file("{checkpoint}"),
    log:
        "results/logs/extract/{checkpoint}.log",
    benchmark:
        "results/benchmarks/extract/{checkpoint}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=lambda wildcards: configuration.extract_settings(CHECKPOINTS[wildcards.checkpoint]),
    shell:
        logged(
            "python {input.script} --values {input.values} --settings {params.settings:q}"
            " --output {output}"
        )
