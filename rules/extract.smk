rule extract:
    input:
        **code("extract"),
        values=values_file("{state}"),
        saved=values_file("saved"),
        initial=values_file("initial"),
    output:
        slices_file("{state}"),
    log:
        "results/logs/extract/{state}.log",
    benchmark:
        "results/benchmarks/extract/{state}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    params:
        settings=configuration.extract_settings(config),
    shell:
        logged(
            "python {input.script} --state {wildcards.state} --values {input.values}"
            " --saved {input.saved} --initial {input.initial} --settings {params.settings:q}"
            " --output {output}"
        )
