"""jaxd2l.checks.moved: every moved name and every d2l name points at something real."""

import importlib
import re

import pytest

import jaxd2l as d2l
from jaxd2l.checks import moved


def _resolve(dotted: str):
    """`d2l.a.b` or `jaxd2l.a.b` to the object (modules imported on the way)."""
    parts = dotted.split(".")[1:]
    obj = d2l
    for part in parts:
        obj = getattr(obj, part)
    return obj


def test_every_moved_module_has_a_real_place_and_the_old_path_names_it():
    for old, new in moved.MODULES.items():
        importlib.import_module(new.split(" ")[0])  # "jaxd2l.core.hooks (EarlyStopping)"
        with pytest.raises(ModuleNotFoundError, match=re.escape(f"it moved to {new}")):
            importlib.import_module(old)


def test_every_d2l_name_is_answered_with_something_that_exists_here():
    for name, here in moved.D2L.items():
        targets = re.findall(r"\bd2l(?:\.\w+)+", here)
        assert targets, name
        for target in targets:
            assert _resolve(target) is not None, (name, target)
        if name in d2l.__all__:  # the same name here (d2l.sgd)
            continue
        with pytest.raises(AttributeError, match=re.escape(f"d2l's {name}: here, ")):
            getattr(d2l, name)
