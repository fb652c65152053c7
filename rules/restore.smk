rule restore:
    input:
        **code("restore"),
        checkpoint=CHECKPOINT_FILES,
        saved=values_file("saved"),
        initial=values_file("initial"),
    output:
        values_file("{ordering}"),
    log:
        "results/logs/restore/{ordering}.log",
    benchmark:
        "results/benchmarks/restore/{ordering}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=lambda wildcards: configuration.restore_settings(config, wildcards.ordering),
        prefix=lambda wildcards, input: checkpoint_prefix(input.checkpoint),
    shell:
        logged(
            "python {input.script} --settings {params.settings:q} --checkpoint {params.prefix}"
            " --saved {input.saved} --initial {input.initial} --output {output}"
            " --threads {threads}"
        )
