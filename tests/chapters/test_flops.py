import jax
import jax.numpy as jnp
import pytest

from jaxd2l.chapters import flops
from jaxd2l.core.step import Batch, init_state, make_train_step
from jaxd2l.models import mlp
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.optim import sgd
from jaxd2l.tools.bench import sections
from jaxd2l.tools.bench.workloads import WORKLOADS


def test_hand_count_of_small_cases():
    # One 3 -> 2 layer, batch 4: forward 2*4*3*2 = 48, weight gradient 48, no input gradient.
    count = flops.dense_step_flops((3, 2), 4)
    assert count["matmul"] == 96
    # 3 -> 5 -> 2: forward 2*4*(15 + 10) = 200, weight grads 200, input grad of layer 2: 80.
    count = flops.dense_step_flops((3, 5, 2), 4)
    assert count["matmul"] == 480
    assert count["elementwise"] == 2 * 4 * 7 + 2 * 4 * 5 + 5 * 4 * 2 + 2 * (20 + 12)


@pytest.mark.parametrize("sizes", [(784, 10), (784, 256, 10), (784, 256, 128, 64, 10)])
def test_hand_count_agrees_with_xla_cost_analysis(sizes):
    B = 128
    tx = sgd(0.1)
    step = make_train_step(mlp.apply, cross_entropy, tx)
    state = init_state(mlp.init(jax.random.key(0), sizes), tx, jax.random.key(0))
    batch = Batch(jnp.zeros((B, 784)), jnp.zeros(B, jnp.int32), jnp.ones(B, bool))
    xla = flops.xla_cost(jax.jit(step).lower(state, batch).compile())
    if xla is None:
        pytest.skip("this backend gives no cost analysis")
    hand = flops.dense_step_flops(sizes, B)["total"]
    assert abs(xla["flops"] - hand) / hand < 0.05
    cost = sections.step_cost(WORKLOADS["mlp"], 256)
    assert cost["source"].startswith("XLA cost analysis")


def test_cost_falls_back_to_the_hand_count_with_a_note():
    class NoCost:
        def cost_analysis(self):
            return None

    class WrongCost:
        def cost_analysis(self):
            return [{"flops": 1.0, "bytes accessed": 2.0}]

    assert flops.step_cost(NoCost(), 100.0, 50.0)["source"].startswith("hand count (no XLA")
    wrong = flops.step_cost(WrongCost(), 100.0, 50.0)
    assert wrong["flops"] == 100.0 and "99% off" in wrong["source"]
