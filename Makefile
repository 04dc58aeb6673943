# The two entry points (see README): `make demo` and `make test`. Both do all the set-up first:
# system packages (scripts/setup-system), a virtual environment in .venv with the project installed,
# and the models built by the project itself (`passthrough build-models`, cached).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup models demo test clean

$(STAMP): pyproject.toml scripts/setup-system
	./scripts/setup-system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BIN)/passthrough build-models

demo: models
	$(BIN)/passthrough demo --out demo-out

test: models
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo-out .pytest_cache
