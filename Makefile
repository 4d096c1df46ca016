# Every target bootstraps .venv with uv (installing uv with pip when it is missing).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
VENV := .venv
RUN := $(UV) run --frozen

.PHONY: venv chromium vendor test test-fast soak lint demo bench stack-up stack-down format clean

venv: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

# Two pytest processes (pytest-xdist), a test file each at a time (module fixtures stay in one
# process), each with its own servers: most of the suite waits on servers and timers, so two
# overlap well on two cores. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: venv chromium
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The console's browser tests drive Debian's Chromium (Playwright's own browser download is
# not reachable): installed with apt-get when missing (CI runs as root on a clean machine).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Re-vendor the console's browser libraries (htmx, axe-core) from the npm registry: exact
# versions and their licences, committed; only needed to change a version.
vendor:
	mentorflow/console/static/vendor/fetch.sh

# Everything that needs no server (no PostgreSQL, NATS or Temporal): the inner loop, under a
# minute. Tests using a server fixture or marked `servers` are left out (tests/conftest.py).
test-fast: venv
	$(RUN) pytest --without-servers -q $(PYTEST_ARGS)

# The fault-injection suite at soak size (docs/fault-injection.md); prints a summary table.
soak: venv
	MENTORFLOW_SOAK=1 $(RUN) pytest tests/faults --timeout=1800 $(PYTEST_ARGS)

lint: venv
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports

format: venv
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

demo: venv
	$(RUN) mentorflow demo $(DEMO_ARGS)

bench: venv
	$(RUN) python -m bench.eventstore_bench
	$(RUN) python -m bench.matching_bench
	$(RUN) python -m bench.projections_bench
	$(RUN) python -m bench.sealing_bench
	$(RUN) python -m bench.console_pages
	$(RUN) python -m bench.notifier_bench

stack-up: venv
	$(RUN) mentorflow stack up

stack-down: venv
	$(RUN) mentorflow stack down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
