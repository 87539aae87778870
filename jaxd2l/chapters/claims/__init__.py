"""The course note's claims, tested: each reader's question and the lecturer's answer (and
the MLP exercises) as a sweep over seeds with a 95% interval and a verdict whose rule is
written in the code before the run (`verdicts`).

`CLAIMS` maps each claim's name to its function `claim(budget, images) -> ClaimResult`, in
the note's order; `report.write_report` writes claims.json, claims.md and the figures.
"""

from jaxd2l.chapters.claims.initialisation import pretraining
from jaxd2l.chapters.claims.labels import cross_entropy_vs_others, soft_labels
from jaxd2l.chapters.claims.optimization import batch_size, learning_rate, remainder
from jaxd2l.chapters.claims.regression import squared_vs_absolute, sum_vs_mean
from jaxd2l.chapters.claims.regularisation import weight_decay_and_dropout
from jaxd2l.chapters.claims.result import ClaimResult
from jaxd2l.chapters.claims.stopping import rise_and_fall
from jaxd2l.chapters.claims.sweeps import Budget, Images
from jaxd2l.chapters.claims.tuning import heuristics
from jaxd2l.chapters.claims.two_class import logistic
from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)  # report (and its figures) load on first use

CLAIMS = {
    "squared_vs_absolute": squared_vs_absolute,
    "sum_vs_mean": sum_vs_mean,
    "learning_rate": learning_rate,
    "batch_size": batch_size,
    "remainder": remainder,
    "soft_labels": soft_labels,
    "logistic": logistic,
    "cross_entropy": cross_entropy_vs_others,
    "rise_and_fall": rise_and_fall,
    "pretraining": pretraining,
    "tuning": heuristics,
    "regularisation": weight_decay_and_dropout,
}
"""Every claim by name: the first pass's eleven in the note's order (1-11), then the second
pass's (12, from the linear-regression section)."""

NEEDS_IMAGES = frozenset(CLAIMS) - {"squared_vs_absolute", "sum_vs_mean"}
"""The claims that train on Fashion-MNIST (the others make the chapter's synthetic data)."""

__all__ = ["CLAIMS", "NEEDS_IMAGES", "Budget", "ClaimResult", "Images"]
