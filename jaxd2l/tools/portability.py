"""Proof, on any machine, that every compiled program the experiments run lowers for GPU and
TPU: each is exported with `jax.export` for `cuda`, `tpu` and `rocm` at the experiments'
default shapes (abstract arguments: no data, no device needed), and its StableHLO is checked
for host callbacks (which an accelerator run would stall on) and float64 (which TPUs lack
and GPUs run slowly)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

PLATFORMS = ("cuda", "tpu", "rocm")
CALLBACK = re.compile(r"custom_call[^\n]*callback|stablehlo\.custom_call @[^\n(]*callback")
FLOAT64 = re.compile(r"[<x]f64>")  # tensor<f64>, tensor<3xf64>, complex<f64>


def spec(shape: Sequence[int], dtype: Any = jnp.float32) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(tuple(shape), dtype)


def abstract(tree: Any) -> Any:
    """ShapeDtypeStructs of a pytree of arrays (keys included)."""
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), tree)


def _classifier(model, batch_size=256):
    from jaxd2l.chapters.classification import classifier_epoch, scratch_loss
    from jaxd2l.core.step import init_state
    from jaxd2l.nn.optim import sgd

    tx = sgd(0.1)
    epoch, evaluate = classifier_epoch(model.apply, tx, scratch_loss(), batch_size)
    key = jax.random.key(0)
    state = abstract(jax.eval_shape(lambda: init_state(model.init(key), tx, key)))
    return epoch, evaluate, state, tx


def programs() -> dict[str, tuple[Callable, tuple]]:
    """name -> (jitted program, abstract arguments) for every program the experiments compile,
    at their default shapes (Fashion-MNIST's 60000 x 28 x 28 x 1 uint8, batch 256). A
    Bayesian search round trains the grid's program, the vmapped trials epoch."""
    from jaxd2l.chapters import distribution_shift as shift
    from jaxd2l.chapters import house_prices, label_shift, model_selection, stability
    from jaxd2l.core.drivers import make_train
    from jaxd2l.core.epoch import make_epoch
    from jaxd2l.core.step import make_train_step
    from jaxd2l.data.fashion_mnist import scale_images
    from jaxd2l.models import mlp, softmax
    from jaxd2l.nn.losses import cross_entropy
    from jaxd2l.nn.metrics import classification_metrics
    from jaxd2l.nn.optim import sgd
    from jaxd2l.nn.stacks import with_learning_rates

    key = spec((), jax.random.key(0).dtype)
    images, labels = spec((60000, 28, 28, 1), jnp.uint8), spec((60000,), jnp.int32)
    test = (spec((10000, 28, 28, 1), jnp.uint8), spec((10000,), jnp.int32))
    out: dict[str, tuple[Callable, tuple]] = {}
    for name, model in (
        ("softmax", softmax.model()),
        ("mlp", mlp.model((784, 256, 10))),
        ("dropout mlp", mlp.model((784, 256, 256, 10), dropout=(0.2, 0.5))),
    ):
        epoch, evaluate, state, tx = _classifier(model)
        out[f"{name} epoch"] = (epoch.compiled, (state, images, labels, None))
        out[f"{name} evaluation"] = (jax.jit(evaluate), (state.params, *test))
    model = mlp.model((784, 256, 10))
    epoch, evaluate, _, tx = _classifier(model)
    train = make_train(model.init, tx, epoch, 10, observe=evaluate)
    seeds = jax.vmap(train, in_axes=(0, None, None))
    out["mlp whole run, 8 seeds"] = (
        jax.jit(seeds),
        (spec((8,), key.dtype), (images, labels), test),
    )
    lrs = [0.03, 0.1, 0.3]  # the default grid's group: trials vmapped over learning rates
    params = mlp.init(jax.random.key(0), (784, 256, 10))
    tx, states = with_learning_rates(params, sgd, lrs, jax.random.key(1))
    step = make_train_step(mlp.apply, cross_entropy, tx, classification_metrics)
    trials = make_epoch(jax.vmap(step, in_axes=(0, None)), 256, prepare=scale_images)
    out["vmapped trials epoch"] = (trials.compiled, (abstract(states), images, labels, None))
    poly = spec((100, 20)), spec((100,))
    run = model_selection.make_polynomial_run(400, 10, 0.01)
    degrees = jax.vmap(run, in_axes=(None, 0, None, None, None))
    masks, ones = spec((20, 20)), spec((100,))
    out["degree sweep"] = (jax.jit(degrees), (key, masks, ones, poly, poly))
    decay = jax.vmap(model_selection.make_decay_run(100), in_axes=(None, 0, None, None))
    high = spec((20, 200)), spec((20,))
    out["weight-decay sweep"] = (
        jax.jit(decay),
        (key, spec((11,)), high, (spec((100, 200)), spec((100,)))),
    )
    house = house_prices.make_house_run(
        house_prices.make_model("linear", 330), target="price", epochs=100
    )
    folds = jax.vmap(house, in_axes=(None, None, None, 0, None, None))
    out["house-price folds"] = (
        jax.jit(folds),
        (key, spec(()), spec(()), spec((5, 1460)), spec((1460, 330)), spec((1460,))),
    )
    x = spec((2000, 1))
    out["covariate-shift lines"] = (jax.jit(shift.fit_weighted_lines), (x, x, spec((3, 2000))))
    out["domain classifier"] = (jax.jit(shift.fit_domain_classifier), (x, x))

    def label_shift_program(key, probs, labels, confusion, severities, order, source_priors):
        return label_shift.label_shift_sweep(
            key, probs, labels, confusion, severities, order=order, source_priors=source_priors
        )

    pool = (key, spec((10000, 10)), spec((10000,), jnp.int32), spec((10, 10)), spec((6,)))
    pool += (spec((10,), jnp.int32), spec((10,)))
    out["label-shift sweep"] = (jax.jit(label_shift_program), pool)
    combos = jax.jit(lambda k, X: stability.all_combinations(k, X))
    out["stability sweep"] = (combos, (key, spec((256, 784))))
    return out


KNOWN_PLATFORMS = ("cpu", "cuda", "rocm", "tpu")
"""The platforms `jax.export` lowers for."""


def check_platforms(platforms: Any) -> tuple[str, ...]:
    """A non-empty list of platform names JAX knows, as a tuple: a bare string ("cuda")
    would be read letter by letter, an unknown name reported as portable."""
    from jaxd2l.checks.errors import ArgumentError

    if isinstance(platforms, str) or not isinstance(platforms, Sequence) or not platforms:
        raise ArgumentError(
            f"platforms must be a non-empty list such as ('cuda', 'tpu'), got {platforms!r}"
        )
    unknown = [p for p in platforms if p not in KNOWN_PLATFORMS]
    if unknown:
        raise ArgumentError(
            f"platforms {unknown} are not platforms JAX exports for: use {KNOWN_PLATFORMS}"
        )
    return tuple(platforms)


def export_report(
    platforms: Sequence[str] = PLATFORMS, programs_: dict[str, tuple[Callable, tuple]] | None = None
) -> list[dict[str, Any]]:
    """One row per program (default: `programs()`): the platforms it lowered for, seconds,
    host callbacks and float64 found in its StableHLO. A program that fails to lower has
    `error` (JAX refuses to lower a Python host callback for another platform at all)."""
    platforms, rows = check_platforms(platforms), []
    for name, (fn, args) in (programs() if programs_ is None else programs_).items():
        t0 = time.perf_counter()
        row: dict[str, Any] = {"program": name}
        try:
            target = fn if hasattr(fn, "lower") else jax.jit(fn)
            exported = jax.export.export(target, platforms=tuple(platforms))(*args)
            text = exported.mlir_module()
            row.update(
                platforms=list(exported.platforms),
                callbacks=len(CALLBACK.findall(text)),
                float64=bool(FLOAT64.search(text)),
            )
        except Exception as e:  # a program that does not lower is the finding, not a crash
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
        row["seconds"] = round(time.perf_counter() - t0, 3)
        rows.append(row)
    return rows


def export_epoch(
    epoch: Any, state: Any, X: Any, y: Any, platforms: Sequence[str] = PLATFORMS
) -> jax.export.Exported:
    """An `Epoch` exported for other platforms (`jax.export`), ready to serialize and run on
    a host without jaxd2l: it takes and returns the state as its list of leaves,
    `exported.call(leaves, X, y) -> (leaves, sums)` (`jax.tree.leaves(state)`; rebuild with
    `jax.tree.unflatten(jax.tree.structure(state), leaves)`), so no jaxd2l or optax type
    needs registering for serialization. `state`, `X` and `y` may be arrays or
    `jax.ShapeDtypeStruct` values."""
    from jaxd2l.core.epoch import as_epoch

    epoch = as_epoch(epoch)
    treedef = jax.tree.structure(state)

    def flat_epoch(leaves, X, y):
        after, sums = epoch.run(jax.tree.unflatten(treedef, leaves), X, y)
        return jax.tree.leaves(after), sums

    leaves = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in jax.tree.leaves(state)]
    args = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in (X, y)]
    platforms = check_platforms(platforms)
    return jax.export.export(jax.jit(flat_epoch), platforms=platforms)(leaves, *args)


def portable(rows: list[dict[str, Any]]) -> bool:
    """Every program lowered, with no host callback and no float64."""
    return all("error" not in r and r["callbacks"] == 0 and not r["float64"] for r in rows)


if __name__ == "__main__":
    report = export_report()
    for r in report:
        print(r)
    print("portable" if portable(report) else "NOT portable")
