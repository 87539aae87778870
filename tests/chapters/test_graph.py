"""jaxd2l.chapters.graph: the chapter's computational graph read back from make_jaxpr."""

import shutil

import jax
import jax.numpy as jnp
import pytest

from jaxd2l.chapters import graph
from jaxd2l.checks.errors import UserError

ARGS = (jnp.ones((6, 4)), jnp.ones((4, 3)), jnp.ones((2, 6)), jnp.zeros(2, jnp.int32))


def chapter_graph(inline=False):
    jaxpr = jax.make_jaxpr(graph.chapter_objective(0.1))(*ARGS)
    return graph.graph_of(jaxpr, ["W1", "W2", "X", "y"], inline=inline)


def test_the_chapter_graph_has_the_books_nodes_and_edges():
    g = chapter_graph()
    labels = dict(g.values) | dict(g.operators)
    named = {label: node for node, label in g.values}
    assert sorted(named) == sorted(["W1", "W2", "X", "y", "z", "h", "o", "L", "s", "J"])
    assert sorted(label for _, label in g.operators) == sorted(graph.CHAPTER_OPERATORS.values())

    def parents(value):  # the values feeding the operator that makes `value`
        op = next(a for a, b in g.edges if b == named[value])
        return sorted(labels[a] for a, b in g.edges if b == op)

    assert parents("z") == ["W1", "X"] and parents("h") == ["z"] and parents("o") == ["W2", "h"]
    assert parents("L") == ["o", "y"] and parents("s") == ["W1", "W2"]
    assert parents("J") == ["L", "s"]


def test_the_objective_computes_the_chapters_J():
    from jaxd2l.chapters import backprop

    k = jax.random.split(jax.random.key(0), 3)
    W1, W2, X = (jax.random.normal(kk, a.shape) for kk, a in zip(k, ARGS[:3], strict=True))
    y = jnp.array([1, 2])
    J = graph.chapter_objective(0.1)(W1, W2, X, y)
    expected, _ = backprop.forward({"W1": W1, "W2": W2}, X, y, 0.1)
    assert float(J) == pytest.approx(float(expected), rel=1e-6)


def test_inlined_graph_shows_the_primitives():
    g = chapter_graph(inline=True)
    ops = [label for _, label in g.operators]
    assert "dot_general" in ops and "max" in ops and "jit" not in ops
    assert len(ops) > 2 * len(graph.CHAPTER_OPERATORS)


def test_dot_text_and_rendering(tmp_path):
    dot = graph.to_dot(chapter_graph())
    assert dot.startswith("digraph G {") and dot.count("->") == len(chapter_graph().edges)
    if shutil.which("dot") is None:
        with pytest.raises(UserError, match="apt-get install graphviz"):
            graph.render(dot, str(tmp_path / "g.png"))
    else:
        path = graph.render(dot, str(tmp_path / "g.png"))
        assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG" and path.endswith("g.png")


def test_input_names_must_match():
    jaxpr = jax.make_jaxpr(graph.chapter_objective(0.1))(*ARGS)
    with pytest.raises(UserError, match="4 inputs to name, got 2"):
        graph.graph_of(jaxpr, ["W1", "W2"])
