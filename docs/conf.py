"""Sphinx configuration: MyST-NB executes the chapter notebooks and the research guide at
build time (no outputs are committed); the API reference comes from the docstrings.

JAXD2L_DOCS_QUICK=1 shortens every training run (fewer epochs) so a build takes a few
minutes on a laptop CPU; `make docs` sets it, `make docs-full` does not.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

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
