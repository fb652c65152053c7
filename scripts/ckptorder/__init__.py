"""Code the steps in `scripts/` share, and the Snakefile's checks of the config.

Not installed: each step finds it beside itself (`python scripts/build.py` puts `scripts/` on
the path), so a change here is a change of the files Snakemake tracks as the steps' inputs.
"""
