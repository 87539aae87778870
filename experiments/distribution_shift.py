"""d2l 4.9: environment and distribution shift, with the corrections the section describes.

    python -m experiments.distribution_shift [--num-source 2000] [--noise 0.3] [--clip 10]
        [--epochs 10] [--lr 0.1] [--severities 6] [--target-size 5000] [--val-size 10000]
        [--data-dir PATH] [--seed 0] [--out DIR]

Covariate shift: a line fitted to y = -x + x^3 + noise on source draws x ~ N(0.5, 0.5^2)
and scored on target draws x ~ N(0, 0.3^2); unweighted, weighted by the true density
ratio, and weighted by beta = exp(h(x)) from a logistic regression telling the domains
apart (clipped at --clip); the three fits vmapped. Label shift: softmax regression trained
on balanced Fashion-MNIST; target sets drawn from the test split with increasingly skewed
class priors (--severities from uniform to geometric, vmapped); priors estimated from the
validation confusion matrix, q = C^-1 mu; accuracy before and after correcting the
outputs. Writes DIR/metrics.json (default runs/distribution_shift), covariate_shift.png
and label_shift.png.
"""

from __future__ import annotations

import dataclasses

from jaxd2l.chapters.shift_studies import covariate_shift_study, label_shift_study
from jaxd2l.cli import DataFlags, Run, SeedFlags, flag, run_cli
from jaxd2l.core.keys import run_keys
from jaxd2l.data import fashion_mnist as fm
from jaxd2l.plot import shift_figures
from jaxd2l.search.trials import validation_split


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags, DataFlags):
    num_source: int = flag(2000, "covariate shift: source (and target) draws", min=10, max=10**7)
    noise: float = flag(0.3, "covariate shift: standard deviation of y's noise", min=0, max=100)
    clip: float = flag(
        10.0, "covariate shift: importance weights are clipped at this (>= 1)", min=1, max=1e6
    )
    epochs: int = flag(10, "label shift: epochs of softmax regression", min=1, max=10**5)
    lr: float = flag(0.1, "label shift: learning rate", gt=0)
    batch_size: int = flag(256, "label shift: examples per minibatch", min=1, max=2**24)
    severities: int = flag(
        6, "label shift: skews from uniform to geometric priors", min=2, max=1024
    )
    target_size: int = flag(5000, "label shift: examples per target set", min=10, max=10**7)
    val_size: int = flag(
        10000, "label shift: validation examples (confusion matrix)", min=1, max=1_000_000
    )


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    with Run("distribution_shift", config) as run:
        covariate, figure = covariate_shift_study(
            keys.data, config.num_source, config.noise, config.clip
        )
        run.record["covariate_shift"] = covariate
        loss = covariate["target_loss"]
        print(
            "covariate shift, target loss: "
            + ", ".join(f"{k} {v:.4f}" for k, v in loss.items())
            + f" (noise floor {config.noise**2:.4f})",
            flush=True,
        )
        if run.primary:
            shift_figures.save_covariate_shift(figure, run.file("covariate_shift.png"))
        (X, y), test = fm.load_train_test(data_dir=config.data_dir, on_device=True)
        train, val = validation_split(keys.split, X, y, config.val_size)
        labels = label_shift_study(
            train,
            val,
            test,
            keys,
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            severities=config.severities,
            target_size=config.target_size,
        )
        if run.primary:
            shift_figures.save_label_shift(labels, run.file("label_shift.png"))
        final = {"covariate_shift": covariate, "label_shift": labels}
        worst = -1  # the most skewed priors
        summary = (
            f"distribution_shift: covariate target loss {loss['unweighted']:.3f} unweighted, "
            f"{loss['estimated ratio']:.3f} with estimated weights; label shift at severity 1: "
            f"prior error (TV) {labels['prior_error_tv'][worst]:.3f}, accuracy "
            f"{labels['acc_trained'][worst]:.3f} -> {labels['acc_corrected'][worst]:.3f} "
            f"corrected (oracle {labels['acc_oracle'][worst]:.3f})"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
