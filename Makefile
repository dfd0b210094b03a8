# Two commands matter: `make run` (set up, then run the bot) and `make test` (set up, then every check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint browser bench clean

$(BIN)/healthbot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/healthbot

setup: $(BIN)/healthbot

run: setup
	$(BIN)/healthbot db upgrade
	$(BIN)/healthbot demo --if-empty
	$(BIN)/healthbot ask "/health atrisk"
	$(BIN)/healthbot serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The playground's browser test drives Debian's Chromium; install it from the package registry when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) || \
		echo "Chromium could not be installed: the browser test will report it as skipped"

test: lint browser
	$(BIN)/pytest -q -n auto --dist loadfile

bench: setup
	$(BIN)/healthbot bench --size M

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
