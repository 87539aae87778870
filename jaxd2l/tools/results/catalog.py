"""The documented runs: each experiment at its documented settings, the benchmark, the
PyTorch reference comparison and the claims report. `make results` runs them in this order
and writes `results/NAME.json`; the README's blocks and the docs' Results page render them.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    """One documented run."""

    name: str
    """The record's name: `results/NAME.json`, and how `make results NAMES=...` picks it."""
    module: str
    """The experiment module under `experiments`."""
    args: tuple[str, ...]
    """Its flags (never --out: the runner chooses the folder)."""
    section: str
    """The d2l section (or where the idea comes from)."""

    @property
    def command(self) -> str:
        """The command line a reader types to reproduce the record."""
        return " ".join(("python -m", f"experiments.{self.module}", *self.args))


def _e(name: str, module: str, section: str, *args: str) -> Entry:
    return Entry(name, module, tuple(args), section)


ENTRIES = (
    _e("linear_regression_closed_form", "linear_regression", "3.1", "--impl", "closed_form"),
    _e("linear_regression_scratch", "linear_regression", "3.2", "--impl", "scratch"),
    _e("linear_regression_concise", "linear_regression", "3.3", "--impl", "concise"),
    _e("losses", "losses", "3.1, 3.4"),
    _e("fashion_mnist", "fashion_mnist", "3.5"),
    _e("softmax_scratch", "softmax_regression", "3.6", "--impl", "scratch"),
    _e("softmax_concise", "softmax_regression", "3.7", "--impl", "concise"),
    _e("perceptron", "perceptron", "course note (4.1)"),
    _e("xor", "xor", "4.1"),
    _e("activations", "activations", "4.1.2"),
    _e("mlp_scratch", "mlp", "4.2", "--impl", "scratch"),
    _e("mlp_concise", "mlp", "4.3", "--impl", "concise"),
    _e("mlp_init_zeros", "mlp", "4.2 ex.", "--init", "zeros"),
    _e("mlp_init_xavier", "mlp", "4.2 ex.", "--init", "xavier"),
    _e("mlp_init_he", "mlp", "4.2 ex.", "--init", "he"),
    _e("mlp_init_pretrain", "mlp", "course note ex.", "--init", "pretrain"),
    _e("mlp_deep_normal", "mlp", "4.2 ex.", "--hidden", "256,128,64"),
    _e("mlp_deep_he", "mlp", "4.2 ex.", "--hidden", "256,128,64", "--init", "he"),
    _e(
        "mlp_deep_pretrain",
        "mlp",
        "course note ex.",
        "--hidden",
        "256,128,64",
        "--init",
        "pretrain",
    ),
    _e("hparam_grid", "hparam_search", "4.2 ex. 2", "--method", "grid"),
    _e(
        "hparam_compare",
        "hparam_search",
        "course note",
        "--method",
        "compare",
        "--trials",
        "16",
        "--epochs",
        "2",
        "--seeds",
        "3",
        "--hidden",
        "64,256",
    ),
    _e(
        "hparam_softmax_lrs",
        "hparam_search",
        "4.2 ex. 2",
        "--model",
        "softmax",
        "--lrs",
        "0.01,0.03,0.05,0.1,0.2,0.3,0.5,1",
    ),
    _e("model_selection", "model_selection", "4.4"),
    *(
        _e(f"model_selection_seed{s}", "model_selection", "4.4", "--seed", str(s))
        for s in (0, 2, 3, 4, 5)
    ),
    _e("weight_decay_scratch", "weight_decay", "4.5", "--impl", "scratch"),
    _e("weight_decay_concise", "weight_decay", "4.5", "--impl", "concise"),
    _e("dropout_scratch", "dropout", "4.6", "--impl", "scratch"),
    _e("dropout_concise", "dropout", "4.6", "--impl", "concise"),
    _e("backprop", "backprop", "4.7"),
    _e("numerical_stability", "numerical_stability", "4.8"),
    _e("distribution_shift", "distribution_shift", "4.9"),
    _e("early_stopping", "early_stopping", "d2l-en 5.5"),
    _e("house_prices", "house_prices", "4.10"),
    _e(
        "benchmark", "benchmark", "", "--sections", "limits,models,drivers,precision,trials,devices"
    ),
    _e("benchmark_reference", "benchmark", "", "--sections", "reference,startup", "--seeds", "5"),
    _e("claims", "claims", "course note"),
)
"""Every documented run, in the order `make results` runs them."""

BY_NAME = {e.name: e for e in ENTRIES}
