rule build:
    input:
        **code("build"),
    output:
        checkpoint=CHECKPOINT_FILES,
        state="results/checkpoint/checkpoint",
        initial=values_file("initial"),
        saved=values_file("saved"),
    log:
        "results/logs/build.log",
    benchmark:
        "results/benchmarks/build.tsv"
    conda:
        "../envs/pipeline.yaml"
    # Training's own thread count is a setting: the count changes the trained bytes.
    threads: config["train"]["threads"]
    params:
        settings=configuration.build_settings(config),
        prefix=lambda wildcards, output: checkpoint_prefix(output.checkpoint),
    shell:
        logged(
            "python {input.script} --settings {params.settings:q} --checkpoint {params.prefix}"
            " --initial {output.initial} --saved {output.saved}"
        )
