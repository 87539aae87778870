"""d2l 4.7: forward and backward propagation, by hand and by jax.grad, and their memory.

    python -m experiments.backprop [--hidden 64] [--lambd 0.1] [--depths 1,2,4,8,16]
        [--batches 64,256,1024,4096] [--width 256] [--seed 0] [--out DIR]

The chapter's one-hidden-layer MLP with an L2 term (J = L + s): the backward pass written
from the chapter's equations equals jax.grad's to float32 rounding. Then the compiled
programs' own memory analysis: inference needs no temporaries beyond its output, while a
training step keeps every layer's forward intermediates, so its temporaries grow with depth
and batch (memory_depth.png, memory_batch.png). What `jax.checkpoint` trades: the step of a
scanned MLP with the intermediates stored or recomputed, temporaries and FLOPs against
depth (remat.png). The computational graph of J = L + s drawn from `jax.make_jaxpr` with
the chapter's names (graph.png, graph.dot) and expanded into XLA's primitives
(graph_primitives.png); drawing needs Graphviz's `dot` (the .dot files are written
without it). Writes DIR/metrics.json (default runs/backprop) and the figures.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxd2l import plot
from jaxd2l.chapters import backprop, graph
from jaxd2l.checks import files
from jaxd2l.checks.errors import UserError
from jaxd2l.cli import Run, SeedFlags, flag, run_cli
from jaxd2l.core.keys import run_keys
from jaxd2l.plot import backprop_figures


@dataclasses.dataclass(frozen=True)
class Config(SeedFlags):
    hidden: int = flag(64, "hidden units of the chapter's MLP", min=1, max=65536)
    lambd: float = flag(0.1, "L2 strength of s = lambd/2 (||W1||^2 + ||W2||^2)", min=0)
    depths: tuple[int, ...] = flag((1, 2, 4, 8, 16), "depths of the memory figure", min=1, max=256)
    batches: tuple[int, ...] = flag(
        (64, 256, 1024, 4096), "batch sizes of the memory figure", min=1, max=2**20
    )
    width: int = flag(256, "layer width of the memory figure", min=1, max=16384)


def draw_graphs(run: Run, config: Config, args) -> dict:
    """graph.dot/.png (the chapter's names) and graph_primitives.dot/.png (XLA's view)."""
    jaxpr = jax.make_jaxpr(graph.chapter_objective(config.lambd))(*args)
    out = {}
    for name, inline in (("graph", False), ("graph_primitives", True)):
        g = graph.graph_of(jaxpr, ["W1", "W2", "X", "y"], inline=inline)
        out[name] = {"values": len(g.values), "operators": len(g.operators)}
        if run.primary:
            dot = graph.to_dot(g, rankdir="LR")
            with files.atomic_open(run.file(f"{name}.dot"), "w") as f:
                f.write(dot)
            try:
                graph.render(dot, run.file(f"{name}.png"))
            except UserError as e:  # no Graphviz: the DOT text is kept, the run goes on
                print(f"{name}.png not drawn: {e}", flush=True)
    return out


def main(config: Config) -> dict:
    keys = run_keys(config.seed)
    k1, k2, kx, ky = jax.random.split(keys.init, 4)
    params = {
        "W1": 0.1 * jax.random.normal(k1, (784, config.hidden)),
        "W2": 0.1 * jax.random.normal(k2, (config.hidden, 10)),
    }
    X, y = jax.random.normal(kx, (32, 784)), jax.random.randint(ky, (32,), 0, 10)
    with Run("backprop", config) as run:
        _, cache = backprop.forward(params, X, y, config.lambd)
        by_hand = backprop.backward(params, cache, y, config.lambd)
        auto = jax.grad(lambda p: backprop.forward(p, X, y, config.lambd)[0])(params)
        gap = max(float(jnp.abs(by_hand[k] - auto[k]).max()) for k in params)
        depth_runs = {d: backprop.memory_figures(d, config.width, 1024) for d in config.depths}
        batch_runs = {b: backprop.memory_figures(4, config.width, b) for b in config.batches}
        if run.primary:
            for name, runs, x, label in (
                ("depth", depth_runs, config.depths, "depth"),
                ("batch", batch_runs, config.batches, "batch size"),
            ):
                curves = {
                    n: [runs[v][n]["temp_bytes"] / 2**20 for v in x]
                    for n in ("inference", "training")
                }
                plot.save_lines(
                    curves,
                    run.file(f"memory_{name}.png"),
                    xlabel=label,
                    ylabel="temporaries (MiB)",
                    x=x,
                )
        final = {
            "max_gradient_gap": gap,
            "memory_by_depth": {str(k): v for k, v in depth_runs.items()},
            "memory_by_batch": {str(k): v for k, v in batch_runs.items()},
        }
        remat_runs = [backprop.remat_figures(d, config.width, 1024) for d in config.depths]
        final["remat_by_depth"] = dict(zip(map(str, config.depths), remat_runs, strict=True))
        final["graph"] = draw_graphs(run, config, (params["W1"], params["W2"], X, y))
        if run.primary:
            backprop_figures.save_remat(config.depths, remat_runs, run.file("remat.png"))
        deepest = depth_runs[max(config.depths)]
        remat = remat_runs[-1]
        summary = (
            f"backprop: hand backward = jax.grad within {gap:.1e}; depth {max(config.depths)}: "
            f"training keeps {deepest['training']['temp_bytes'] / 2**20:.0f} MiB of "
            f"temporaries, inference {deepest['inference']['temp_bytes'] / 2**20:.0f} MiB; "
            f"jax.checkpoint: {remat['rematerialized']['temp_bytes'] / 2**20:.0f} MiB for "
            f"{remat['rematerialized']['flops'] / remat['stored']['flops']:.2f}x the FLOPs"
        )
        return run.finish(final, summary)


if __name__ == "__main__":
    run_cli(main, Config)
