"""Sphinx configuration: MyST-NB executes the chapter notebooks and the research guide at
build time (no outputs are committed); the API reference comes from the docstrings.

JAXD2L_DOCS_QUICK=1 shortens every training run (fewer epochs) so a build takes a few
minutes on a laptop CPU; `make docs` sets it, `make docs-full` does not.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

# The Results page is rendered from the records in results/ at every build (never typed).
from jaxd2l.tools.results.render import write_pages  # noqa: E402

write_pages(os.path.dirname(os.path.abspath(__file__)))

project = "jaxd2l"
author = "jaxd2l developers"
copyright = "2026, jaxd2l developers"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

nb_execution_mode = "force"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}

html_theme = "sphinx_book_theme"
html_title = "jaxd2l"
html_theme_options = {"show_toc_level": 2}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MathJax from the site itself, not a CDN, so formulas typeset on a closed network: Debian's
# libjs-mathjax (2.7.9; `make tools` installs it) or $JAXD2L_MATHJAX_DIR, the parts the
# CommonHTML output needs (about 1.5 MB) copied under the build folder. Without it the
# site falls back to the CDN and says so.
MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS_CHTML.js",
    "extensions",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "jax/element",
    "fonts/HTML-CSS/TeX/woff",
)


def _local_mathjax():
    import shutil

    source = os.environ.get("JAXD2L_MATHJAX_DIR", "/usr/share/javascript/mathjax")
    if not os.path.isfile(os.path.join(source, "MathJax.js")):
        print(f"MathJax not found in {source}: formulas load from the CDN (make tools)")
        return None
    static = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_build", "_mathjax")
    for part in MATHJAX_PARTS:
        src, dst = os.path.join(source, part), os.path.join(static, "mathjax", part)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, dst)
    return static


_mathjax_static = _local_mathjax()
if _mathjax_static is not None:
    html_static_path = [_mathjax_static]
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
    # MyST marks notebook sections `tex2jax_ignore` and re-enables the `math` class with a
    # MathJax 3+ option; MathJax 2 spells that `tex2jax.processClass`.
    myst_update_mathjax = False
    mathjax2_config = {
        "tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area"}
    }
