# cl-vs-mim: `make reproduce` regenerates the figures on the embedded default, `make test` runs every test.
# Both set the machine up first (idempotently): project venv, pinned packages, Fashion-MNIST, notebook export.
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

.PHONY: setup venv data export readme test reproduce pretrain bench clean

setup: venv data export

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the pins change (settings.ini / setup.py newer than the stamp).
$(STAMP): settings.ini setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
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

# Two notebooks run at once, one thread each: two 2-thread torch pools on 2 cores slow each other down ~10x.
test: setup
	OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2
	$(BIN)/python -m pytest -q tests

reproduce: setup
	$(BIN)/cl-vs-mim figures --profile $(PROFILE) --out reports

# Every cpu pre-training recipe (resumable, cached in runs/cpu/), then the probe table runs/cpu/probe_table.md
pretrain: setup
	$(BIN)/cl-vs-mim pretrain --prefix cpu --out runs
	$(BIN)/cl-vs-mim probe --prefix cpu --runs runs

bench: setup
	$(BIN)/cl-vs-mim bench --out reports/bench

clean:
	rm -rf reports runs _proc _docs
