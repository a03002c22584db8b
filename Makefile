VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

# Build the virtual environment once, and again whenever pyproject.toml changes. The `bench`
# extra (AutoKeras, KerasTuner) lets the tests run every benchmark arm's code path.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) cli.py optimize digits --timeout 100 --seed 0
	$(PY) cli.py best digits-convnet

# The tests run in parallel, more workers than cores: many wait on sleeps and subprocesses.
# Those marked `alone` restart a shared server or keep a wall-clock deadline, so they run
# afterwards, two at a time (one a core: their deadlines hold with a margin of seconds).
TEST_WORKERS ?= 4
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not alone"
	$(PY) -m pytest -q -n 2 --dist worksteal -m alone

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) cnnsearch.db cnnsearch-artifacts
