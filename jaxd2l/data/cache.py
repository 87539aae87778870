"""Where prepared data and compiled programs live, and the .npz cache of a data set's arrays.

The cache file is written atomically, so a run stopped while writing it leaves the old one
(or none), and a damaged one is rebuilt from the source.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

ENV_CACHE = "JAXD2L_CACHE_DIR"


def cache_home(cache_dir: str | None = None) -> str:
    """Where jaxd2l keeps prepared data and compiled programs: `cache_dir`, else
    $JAXD2L_CACHE_DIR, else ~/.cache/jaxd2l."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "jaxd2l")
    return cache_dir or os.environ.get(ENV_CACHE) or default


def load_arrays(path: str, splits: Sequence[str]) -> dict[str, tuple[np.ndarray, ...]] | None:
    """The cached (images, labels) of each split, or None when absent or damaged."""
    try:
        with np.load(path) as z:
            return {s: (z[f"{s}_images"], z[f"{s}_labels"]) for s in splits}
    except (OSError, KeyError, ValueError, EOFError):
        return None  # absent or damaged: rebuilt from the source


def save_arrays(path: str, splits: dict[str, tuple[np.ndarray, ...]]) -> None:
    """Write every split's arrays to one .npz, atomically (a temporary file, then renamed)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}.npz"
    arrays = {
        f"{s}_{part}": a
        for s, (i, l) in splits.items()
        for part, a in (("images", i), ("labels", l))
    }
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
