"""Runnable experiments, one per d2l section: `python -m experiments.NAME --help`."""
