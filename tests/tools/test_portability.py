"""jaxd2l.tools.portability: every program the experiments compile lowers for cuda, tpu and
rocm on this CPU machine, with no host callback and no float64; the checks can fail."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.tools import portability


def test_every_experiment_program_lowers_for_gpu_and_tpu_without_callbacks_or_float64():
    rows = portability.export_report()
    assert len(rows) >= 15
    for row in rows:
        assert "error" not in row, row
        assert set(row["platforms"]) == {"cuda", "tpu", "rocm"}, row
        assert row["callbacks"] == 0 and not row["float64"], row
    assert portability.portable(rows)


def test_a_host_callback_and_float64_are_found():
    def with_callback(x):
        shape = jax.ShapeDtypeStruct((3,), jnp.float32)
        return jax.pure_callback(lambda v: np.asarray(v) * 2, shape, x) + 1

    x = jax.ShapeDtypeStruct((3,), jnp.float32)
    rows = portability.export_report(programs_={"callback": (jax.jit(with_callback), (x,))})
    assert "error" in rows[0] and not portability.portable(rows)
    assert portability.CALLBACK.search("stablehlo.custom_call @xla_python_gpu_callback(%0)")
    assert portability.FLOAT64.search("%0 = stablehlo.add %a, %b : tensor<3xf64>")
    assert not portability.FLOAT64.search("%0 = stablehlo.add %a, %b : tensor<3xf32>")
    assert not portability.portable([{"program": "x", "callbacks": 1, "float64": False}])


def test_platforms_are_a_list_of_names_jax_exports_for():
    x = jax.ShapeDtypeStruct((3,), jnp.float32)
    programs = {"double": (jax.jit(lambda v: v * 2), (x,))}
    for bad, message in (("cuda", "non-empty list"), ((), "non-empty list"), (["gpu"], "gpu")):
        with pytest.raises(ValueError, match=message):
            portability.export_report(platforms=bad, programs_=programs)
    rows = portability.export_report(platforms=["cpu", "cuda"], programs_=programs)
    assert rows[0]["platforms"] == ["cpu", "cuda"] and portability.portable(rows)
