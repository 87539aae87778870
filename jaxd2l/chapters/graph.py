"""Computational graphs drawn from the program itself (d2l 4.7.3): `jax.make_jaxpr` of a
function, its equations as operator nodes and its variables as value nodes, written as
Graphviz DOT and rendered with Graphviz's `dot` (Debian's `graphviz` package).

`chapter_objective` is d2l 4.7's J = L + s with each named step (z, h, o, L, s, J) a
nested `jax.jit`, so the traced program carries the chapter's names; `graph_of` turns any
jaxpr into such a graph, nested calls kept as one node (`inline=False`, the chapter's view)
or expanded into XLA's primitives (`inline=True`, what the compiler is handed).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.extend.core import Var

from jaxd2l.checks.errors import UserError
from jaxd2l.nn.losses import cross_entropy

# The operator that makes each of the chapter's values (d2l Figure 4.7.1).
CHAPTER_OPERATORS = {"z": "×", "h": "φ", "o": "×", "L": "l", "s": "‖·‖²", "J": "+"}


def _named(name: str, fn: Callable) -> Callable:
    fn.__name__ = fn.__qualname__ = name
    return jax.jit(fn)


def chapter_objective(lambd: float) -> Callable:
    """(W1, W2, X, y) -> J of d2l 4.7.1: z = X W1, h = relu(z), o = h W2, L = mean
    cross-entropy(o, y), s = lambd / 2 (||W1||^2 + ||W2||^2), J = L + s; each step a named
    nested call."""
    z = _named("z", lambda X, W1: X @ W1)
    h = _named("h", lambda z: jnp.maximum(z, 0.0))
    o = _named("o", lambda h, W2: h @ W2)
    L = _named("L", lambda o, y: cross_entropy(o, y).mean())
    s = _named("s", lambda W1, W2: 0.5 * lambd * (jnp.sum(W1**2) + jnp.sum(W2**2)))
    J = _named("J", lambda L, s: L + s)

    def objective(W1, W2, X, y):
        return J(L(o(h(z(X, W1)), W2), y), s(W1, W2))

    return objective


class Graph(NamedTuple):
    """A computational graph as d2l 4.7 draws it."""

    values: list[tuple[str, str]]
    """(node id, label) of every value: inputs, intermediates, outputs (boxes)."""
    operators: list[tuple[str, str]]
    """(node id, label) of every operator (circles)."""
    edges: list[tuple[str, str]]
    """(from id, to id): a value into an operator, or an operator to its output."""


def _sub_jaxpr(eqn: Any) -> Any | None:
    for key in ("jaxpr", "call_jaxpr"):
        sub = eqn.params.get(key)
        if sub is not None:
            return getattr(sub, "jaxpr", sub)
    return None


def graph_of(closed_jaxpr: Any, input_names: Sequence[str], *, inline: bool = False) -> Graph:
    """The graph of a jaxpr (from `jax.make_jaxpr`): a value node per input (named by
    `input_names`), per equation output and per literal-free constant; an operator node per
    equation. A nested call (`jit`) is one operator named after the called function whose
    output takes that name, unless `inline`, which expands it into its primitives."""
    jaxpr = getattr(closed_jaxpr, "jaxpr", closed_jaxpr)
    if len(input_names) != len(jaxpr.invars):
        raise UserError(f"{len(jaxpr.invars)} inputs to name, got {len(input_names)} names")
    values, operators, edges = [], [], []
    counter = itertools.count()

    def walk(jaxpr, names: dict) -> None:
        for eqn in jaxpr.eqns:
            sub = _sub_jaxpr(eqn)
            call = eqn.params.get("name")
            if sub is not None and inline:
                inner = {
                    sub_var: names.get(v) if isinstance(v, Var) else None
                    for sub_var, v in zip(sub.invars, eqn.invars, strict=True)
                }
                walk(sub, inner)
                for outer, out in zip(eqn.outvars, sub.outvars, strict=True):
                    names[outer] = inner.get(out) if isinstance(out, Var) else None
                continue
            op = f"op{next(counter)}"
            label = CHAPTER_OPERATORS.get(call, call) if sub is not None else eqn.primitive.name
            operators.append((op, label))
            for v in eqn.invars:
                if isinstance(v, Var) and names.get(v) is not None:
                    edges.append((names[v], op))
            for v in eqn.outvars:
                node = f"v{next(counter)}"
                values.append((node, call if sub is not None and call else str(v.aval)))
                names[v] = node
                edges.append((op, node))

    names = {}
    for var, name in zip(jaxpr.invars, input_names, strict=True):
        node = f"in_{name}"
        values.append((node, name))
        names[var] = node
    walk(jaxpr, names)
    return Graph(values, operators, edges)


def to_dot(graph: Graph, *, rankdir: str = "BT") -> str:
    """Graphviz DOT text: values as boxes, operators as circles (d2l's Figure 4.7.1 look),
    data flowing bottom to top."""
    lines = [f"digraph G {{\n  rankdir={rankdir};\n  node [fontname=Helvetica];"]
    for node, label in graph.values:
        lines.append(f'  {node} [shape=box, label="{label}"];')
    for node, label in graph.operators:
        lines.append(
            f'  {node} [shape=circle, style=filled, fillcolor="#dde8f7", label="{label}"];'
        )
    lines += [f"  {a} -> {b};" for a, b in graph.edges]
    return "\n".join(lines) + "\n}\n"


def render(dot_text: str, path: str) -> str:
    """Write `path` (its format from the suffix: .png, .svg, .pdf) with Graphviz's `dot`."""
    dot = shutil.which("dot")
    if dot is None:
        raise UserError(
            "drawing a graph needs Graphviz's `dot`: apt-get install graphviz (or see "
            "graphviz.org); the DOT text was written beside it"
        )
    fmt = path.rsplit(".", 1)[-1]
    subprocess.run([dot, f"-T{fmt}", "-o", path], input=dot_text, text=True, check=True, timeout=60)
    return path
