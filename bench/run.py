"""Benchmark of the pipeline on this machine: where the time goes, how close it is to the
limit its jobs set, and how it copes with a checkpoint of about a gigabyte.

    python bench/run.py                # timings on the default model (about 6 minutes here)
    python bench/run.py --checkpoints  # also the cost of added checkpoints (about 6 more)
    python bench/run.py --scale        # also the ~1 GiB model (5 to 9 minutes more)

Prints a Markdown table and writes it to bench/results.md. Every figure is a median of
--repeat runs measured in this one invocation, so ratios compare like with like.
"""

import argparse
import importlib.metadata
import os
import platform
import tempfile
import time
from pathlib import Path

import default_model
import large_model
import many_checkpoints
from commands import PROJECT


def versions():
    names = ("tensorflow", "snakemake", "numpy", "pandas", "matplotlib")
    return (
        ", ".join(f"{n} {importlib.metadata.version(n)}" for n in names)
        + f", Python {platform.python_version()}"
    )


def table(results):
    lines = ["| measure | value |", "|---|---|"]
    for key, value in results.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def with_ratios(small):
    small["T_cold / T_ideal"] = small["T_cold"] / small["T_ideal"]
    small["T_cold / T_dag"] = small["T_cold"] / small["T_dag"]
    small["T_cold / T_mono"] = small["T_cold"] / small["T_mono"]
    small["T_noop / floor"] = small["T_noop"] / small["floor"]
    small["T_slice - T_noop"] = small["T_slice"] - small["T_noop"]
    small["slowest TF job - T_import"] = small["slowest TF job (--cores 1)"] - small["T_import"]
    return small


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per median (at least 3)")
    parser.add_argument(
        "--checkpoints", action="store_true", help="also time runs of 5 and 20 added checkpoints"
    )
    parser.add_argument("--scale", action="store_true", help="also run the ~1 GiB model")
    parser.add_argument("--output", default=str(PROJECT / "bench" / "results.md"))
    args = parser.parse_args()
    if args.repeat < 3:
        parser.error("--repeat: at least 3 runs per median")
    with tempfile.TemporaryDirectory(prefix="bench-") as root:
        small = with_ratios(default_model.measure(root, args.repeat))
        sections = [f"## Default model (seconds, medians of {args.repeat})\n\n{table(small)}"]
        if args.checkpoints:
            many = many_checkpoints.measure(root, max(3, args.repeat // 2))
            many["per added checkpoint / slowest TF job"] = (
                many["seconds per added checkpoint"] / small["slowest TF job (--cores 1)"]
            )
            sections.append(f"## Added checkpoints (seconds, medians)\n\n{table(many)}")
        if args.scale:
            big = table(large_model.measure(root))
            sections.append(
                f"## About 1 GiB checkpoint (extra_layers {large_model.BIG_MODEL})\n\n{big}"
            )
    header = (
        f"# Benchmark\n\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
        f"{platform.machine()}, {versions()}.\n"
    )
    text = header + "\n" + "\n\n".join(sections) + "\n"
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
