"""jaxd2l/__init__.py: the front door. Importing it has no side effects and loads neither
tfds, matplotlib nor orbax; the README's example needs three import lines and runs."""

import os
import re
import subprocess
import sys

import pytest

import jaxd2l as d2l
from jaxd2l.data import fashion_mnist_source as source

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("tensorflow_datasets", "matplotlib", "orbax")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print(*[m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()


@pytest.mark.slow
def test_import_and_help_load_nothing_heavy():
    assert loaded_after("import jaxd2l") == []
    for name in ("mlp", "softmax_regression", "hparam_search", "benchmark"):
        help_ = (
            "import contextlib, io, runpy; sys.argv = ['x', '--help']; "
            "out = contextlib.redirect_stdout(io.StringIO()); out.__enter__(); "
            f"exec('try: runpy.run_module(\\'experiments.{name}\\', run_name=\\'__main__\\')"
            "\\nexcept SystemExit: pass'); out.__exit__(None, None, None)"
        )
        assert loaded_after(help_) == [], name


def test_the_front_door_is_its_documented_list_one_name_per_object():
    objects = [n for n in d2l.__all__ if n not in d2l.PACKAGES]
    assert dir(d2l) == sorted(d2l.__all__)  # what it offers, nothing else
    assert 20 <= len(objects) <= 30 and len(
        set(map(id, map(d2l.__getattribute__, objects)))
    ) == len(objects)
    for name in d2l.__all__:  # each named in the docstring's list, each a real attribute
        assert f"`{name}`" in d2l.__doc__, name
        assert name in vars(d2l), name  # imported, not produced by a lazy __getattr__
    for name, said in {  # a missing name only says where it went, it never produces one
        "losses": "it moved to jaxd2l.nn.losses",
        "train_ch3": r"d2l's train_ch3: here, d2l.fit\(",
        "load_data_fashion_mnist": r"d2l.data.fashion_mnist.load_train_test\(\)",
        "no_such_name": r"has no attribute 'no_such_name'$",
    }.items():
        with pytest.raises(AttributeError, match=said):
            getattr(d2l, name)
    assert d2l.nn.losses.cross_entropy is not None and d2l.data.fashion_mnist.LABELS[0] == "t-shirt"
    for alias in ("losses", "fashion_mnist", "drivers", "checkpoint"):  # one path per object
        assert not hasattr(d2l, alias), alias


@pytest.mark.slow
def test_the_readme_example_runs_from_three_import_lines(fake_fashion_mnist, monkeypatch):
    folder, _ = fake_fashion_mnist
    readme = open(os.path.join(ROOT, "README.md")).read()
    section = readme[readme.index("## Using the library") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    imports = [line for line in code.splitlines() if re.match(r"(import|from) \S", line)]
    assert len(imports) <= 3, imports
    monkeypatch.setenv(source.ENV_DIR, folder)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert len(scope["result"].history["epoch"]) == 10
    assert scope["runs"].train["loss"].shape == (8, 10) and scope["runs"].untrained.shape == (8,)


REACH_ALL = """
import pathlib, random, sys
import jaxd2l as d2l
root = pathlib.Path(d2l.__file__).parent
paths = sorted(
    p.relative_to(root).with_suffix("").parts
    for p in root.rglob("*.py")
    if p.name not in ("__init__.py", "__main__.py")
)
order = sys.argv[1]
if order == "reversed":
    paths.reverse()
elif order == "shuffled":
    random.Random(0).shuffle(paths)
for parts in paths:
    obj = d2l
    for part in parts:
        obj = getattr(obj, part)
    assert obj.__name__ == "jaxd2l." + ".".join(parts), obj
for name in d2l.__all__:
    getattr(d2l, name)
print(len(paths))
"""


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled"])
def test_every_public_module_is_reachable_from_the_front_door_in_any_order(order):
    out = subprocess.run(
        [sys.executable, "-c", REACH_ALL, order], capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout) > 60
