"""FLOPs and bytes of a training step: counted by hand and read from XLA's cost analysis.

XLA's `compiled.cost_analysis()` is documented as a debugging aid: it can be missing, or
wrong on some backends. So every benchmark figure is cross-checked against a hand count,
and the hand count is used (with a note) when XLA gives none or disagrees widely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def dense_step_flops(sizes: Sequence[int], batch_size: int) -> dict[str, float]:
    """FLOPs of one SGD step of a dense net with layer widths `sizes` (input ... output),
    e.g. (784, 256, 10), on a batch, with cross-entropy or squared loss.

    matmuls: the forward pass (2 B m n per layer), the weight gradients (the same again)
    and the input gradients of every layer but the first (no gradient is taken for the
    data): for 784-256-10 that is about 2x the forward pass, not 3x. elementwise: bias
    adds and their gradients, one activation and its derivative per hidden unit, the
    loss (about 5 per output), and the SGD update (2 per parameter).
    """
    B = batch_size
    layers = list(zip(sizes[:-1], sizes[1:], strict=True))
    forward = sum(2 * B * m * n for m, n in layers)
    weight_grads = forward
    input_grads = sum(2 * B * m * n for m, n in layers[1:])
    hidden = sum(n for _, n in layers[:-1])
    params = sum(m * n + n for m, n in layers)
    elementwise = (
        2 * B * sum(n for _, n in layers)  # bias add + bias gradient
        + 2 * B * hidden  # activation + its derivative
        + 5 * B * sizes[-1]  # softmax / loss and its gradient
        + 2 * params  # p - lr * g
    )
    matmul = forward + weight_grads + input_grads
    return {
        "matmul": float(matmul),
        "elementwise": float(elementwise),
        "total": float(matmul + elementwise),
    }


def dense_step_bytes(sizes: Sequence[int], batch_size: int, input_bytes: int = 1) -> float:
    """A lower bound on the bytes one step moves: the gathered input batch (uint8 pixels
    are 1 byte) and its float32 form (written once, read by the forward matmul and by the
    weight gradient), the parameters read, their gradients written and read, the
    parameters written, and each activation written and read once (all float32)."""
    B = batch_size
    layers = list(zip(sizes[:-1], sizes[1:], strict=True))
    params = sum(m * n + n for m, n in layers)
    activations = sum(B * n for _, n in layers)
    inputs = B * sizes[0] * (input_bytes + 3 * 4)
    return float(inputs + 4 * (4 * params + 2 * activations) + 4 * B)


def xla_cost(compiled: Any) -> dict[str, float] | None:
    """{"flops", "bytes"} from a compiled program's cost analysis, or None when the backend
    gives none (older jax returned a list with one dict per program)."""
    try:
        cost = compiled.cost_analysis()
    except Exception:  # noqa: BLE001 - a debugging aid: any failure means "no figure"
        return None
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    if not cost or "flops" not in cost:
        return None
    return {"flops": float(cost["flops"]), "bytes": float(cost.get("bytes accessed", 0.0))}


def step_cost(compiled: Any, hand_flops: float, hand_bytes: float, tolerance: float = 0.25):
    """The FLOPs and bytes to report for a step: XLA's when present and within `tolerance`
    of the hand count (relative), else the hand count, with a note saying why."""
    xla = xla_cost(compiled)
    if xla is None:
        return {
            "flops": hand_flops,
            "bytes": hand_bytes,
            "source": "hand count (no XLA cost analysis)",
        }
    gap = abs(xla["flops"] - hand_flops) / max(hand_flops, 1.0)
    if gap > tolerance:
        return {
            "flops": hand_flops,
            "bytes": hand_bytes,
            "source": f"hand count (XLA said {xla['flops']:.3g} FLOPs, {gap:.0%} off)",
            "xla_flops": xla["flops"],
        }
    return {
        "flops": xla["flops"],
        "bytes": xla["bytes"] or hand_bytes,
        "source": f"XLA cost analysis (hand count {hand_flops:.3g}, {gap:.1%} apart)",
        "hand_flops": hand_flops,
    }
