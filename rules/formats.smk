# The built model written in other formats (export), and each loaded under its orderings
# (load), like restore for a checkpoint; a SavedModel from outside, loaded each way that
# applies (load_savedmodel); a TF2 checkpoint from outside, listed or restored into its model
# (load_object_checkpoint).


rule export:
    input:
        **code("export"),
        checkpoint=BUILT_FILES,
        settings=lambda wildcards: settings_file(
            "export",
            wildcards.format,
            step_settings.export_settings(config, EXPORTED[wildcards.format]),
        ),
    output:
        directory(exported_folder("{format}")),
    log:
        "results/logs/export/{format}.log",
    benchmark:
        "results/benchmarks/export/{format}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=reading_mb,
        runtime=config["time_limit"],
    params:
        prefix=lambda wildcards, input: prefix_of(input.checkpoint[0]),
    shell:
        logged(
            "python {input.script} --settings @{input.settings:q} --checkpoint {params.prefix}"
            " --output {output} --threads {threads} --time-limit {resources.runtime}"
        )


rule load:
    input:
        **code("load"),
        checkpoint=BUILT_FILES,
        inference=INFERENCE_REFERENCE,
        exported=lambda wildcards: exported_folder(CHECKPOINTS[wildcards.loaded]["format"]),
        settings=lambda wildcards: settings_file(
            "load",
            wildcards.loaded,
            step_settings.loading_settings(config, CHECKPOINTS[wildcards.loaded]),
        ),
    output:
        directory(values_folder("{loaded}")),
    log:
        "results/logs/load/{loaded}.log",
    benchmark:
        "results/benchmarks/load/{loaded}.tsv"
    conda:
        "../envs/pipeline.yaml"
    # The inference check compares with build's output: at training's thread count.
    threads: config["train"]["threads"]
    resources:
        mem_mb=reading_mb,
        runtime=config["time_limit"],
    params:
        prefix=lambda wildcards, input: prefix_of(input.checkpoint[0]),
    shell:
        logged(
            "python {input.script} --settings @{input.settings:q} --exported {input.exported}"
            " --checkpoint {params.prefix} --inference {input.inference} --output {output}"
            " --threads {threads} --time-limit {resources.runtime}"
        )


rule load_savedmodel:
    input:
        unpack(savedmodel_files),
        **code("load_savedmodel"),
        settings=lambda wildcards: settings_file(
            "load_savedmodel",
            wildcards.savedmodel,
            step_settings.savedmodel_step_settings(CHECKPOINTS[wildcards.savedmodel]),
        ),
    output:
        directory(values_folder("{savedmodel}")),
    log:
        "results/logs/load_savedmodel/{savedmodel}.log",
    benchmark:
        "results/benchmarks/load_savedmodel/{savedmodel}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=reading_mb,
        runtime=config["time_limit"],
    params:
        folder=lambda wildcards: CHECKPOINTS[wildcards.savedmodel]["prefix"],
        sandbox=config["sandbox"],
    shell:
        logged(
            confined(
                "python {input.script} --settings @{input.settings:q} --savedmodel {params.folder:q}"
                " --output {output} --threads {threads} --time-limit {resources.runtime}"
            )
        )


rule load_object_checkpoint:
    input:
        unpack(object_checkpoint_files),
        **code("load_object_checkpoint"),
        settings=lambda wildcards: settings_file(
            "load_object_checkpoint",
            wildcards.objects,
            step_settings.object_checkpoint_step_settings(CHECKPOINTS[wildcards.objects]),
        ),
    output:
        directory(values_folder("{objects}")),
    log:
        "results/logs/load_object_checkpoint/{objects}.log",
    benchmark:
        "results/benchmarks/load_object_checkpoint/{objects}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=reading_mb,
        runtime=config["time_limit"],
    params:
        prefix=lambda wildcards: CHECKPOINTS[wildcards.objects]["prefix"],
        sandbox=config["sandbox"],
    shell:
        logged(
            confined(
                "python {input.script} --settings @{input.settings:q} --checkpoint {params.prefix:q}"
                " --output {output} --threads {threads} --time-limit {resources.runtime}"
            )
        )
