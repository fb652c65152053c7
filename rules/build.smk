rule build:
    input:
        **code("build"),
        settings=settings_file("build", "build", step_settings.build_settings(config)),
    output:
        checkpoint=BUILT_FILES,
        state="results/checkpoint/checkpoint",
        inference=INFERENCE_REFERENCE,
    log:
        "results/logs/build.log",
    benchmark:
        "results/benchmarks/build.tsv"
    conda:
        "../envs/pipeline.yaml"
    # Training's own thread count is a setting: the count changes the trained bytes.
    threads: config["train"]["threads"]
    resources:
        mem_mb=sandbox.memory_mb(network.checkpoint_mb(config["model"]["extra_layers"])),
        runtime=config["time_limit"],
    params:
        prefix=lambda wildcards, output: prefix_of(output.checkpoint[0]),
    shell:
        logged(
            "python {input.script} --settings @{input.settings:q} --checkpoint {params.prefix}"
            " --inference {output.inference} --time-limit {resources.runtime}"
        )
