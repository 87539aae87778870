import jax.numpy as jnp
import numpy as np

from jaxd2l.models.init import SCHEMES, weight


def test_init_scheme_scales(key):
    shape = (400, 600)
    expected = {"normal": 0.01, "zeros": 0.0, "xavier": (2 / 1000) ** 0.5, "he": (2 / 400) ** 0.5}
    for scheme in SCHEMES:
        np.testing.assert_allclose(jnp.std(weight(key, shape, scheme)), expected[scheme], rtol=0.02)
