# Two commands: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-test demo test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The demo installs what it runs; the tests add their extras (pytest, ruff, tensorboard) on top.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

demo: install
	$(VENV)/bin/specs demo

# Without chromium the report's browser test skips with a message; CI (.ci/run) installs it.
PYTEST_ARGS ?=
test: install-test
	@rc=0; $(PY) -m pytest -q $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'error: pytest collected no tests (exit 5)' >&2; fi; exit $$rc

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

# Each benchmark prints JSON (median and range over rounds); coldstart.py reads runs/demo/pairs, so the demo first.
BENCH_OUT ?= runs/bench.jsonl
bench: install
	test -d runs/demo/pairs || $(VENV)/bin/specs demo -q
	mkdir -p runs; : > $(BENCH_OUT)
	for f in sampling grpo_overhead coldstart world_split demo; do \
	  $(PY) benchmarks/$$f.py | $(PY) -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >> $(BENCH_OUT) || exit 1; done
	cat $(BENCH_OUT)

clean:
	rm -rf $(VENV) runs .pytest_cache
