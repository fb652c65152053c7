# A checkpoint (Snakemake's kind), so that restore waits for it without taking its output as
# an input: a change of a probe reruns this check alone, not the restore.
checkpoint names:
    input:
        unpack(checkpoint_files_of),
        **code("names"),
        settings=lambda wildcards: settings_file(
            "names",
            wildcards.checkpoint,
            step_settings.names_settings(CHECKPOINTS[wildcards.checkpoint]),
        ),
    output:
        names_file("{checkpoint}"),
    log:
        "results/logs/names/{checkpoint}.log",
    benchmark:
        "results/benchmarks/names/{checkpoint}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=reading_mb,
    params:
        prefix=lambda wildcards, input: prefix_of(input.index),
        sandbox=config["sandbox"],
    shell:
        logged(
            confined(
                "python {input.script} --settings @{input.settings:q} --checkpoint {params.prefix:q}"
                " --graph {input.graph:q} --output {output}"
            )
        )


rule restore:
    input:
        unpack(checkpoint_inputs),
        **code("restore"),
        settings=lambda wildcards: settings_file(
            "restore",
            wildcards.checkpoint,
            step_settings.restore_settings(CHECKPOINTS[wildcards.checkpoint]),
        ),
    output:
        directory(values_folder("{checkpoint}")),
    log:
        "results/logs/restore/{checkpoint}.log",
    benchmark:
        "results/benchmarks/restore/{checkpoint}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: checkpoint_threads
    resources:
        mem_mb=reading_mb,
        runtime=config["time_limit"],
    params:
        # From the entry, not the input: a dry run formats the command before the names
        # checkpoint has run, when this rule's inputs are not known yet.
        prefix=lambda wildcards: CHECKPOINTS[wildcards.checkpoint]["prefix"],
        graph=lambda wildcards: CHECKPOINTS[wildcards.checkpoint]["graph"],
        inference=inference_option,
        sandbox=config["sandbox"],
    shell:
        logged(
            confined(
                "python {input.script} --settings @{input.settings:q} --checkpoint {params.prefix:q}"
                " --graph {params.graph:q} {params.inference} --output {output} --threads {threads}"
                " --time-limit {resources.runtime}"
            )
        )
