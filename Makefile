# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format demo messages clean system-packages runtime-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed from pyproject.toml, held to the versions in requirements.lock.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

run: $(VENV)/.installed runtime-packages
	$(BIN)/servicedesk run

demo: $(VENV)/.installed runtime-packages
	$(BIN)/servicedesk demo

test: $(VENV)/.installed system-packages
	$(BIN)/pytest -n 2 --dist loadfile

# What the product (the PDF report's libraries) and the tests (dovecot, chromium) need from
# the system: installed through apt when missing.
runtime-packages:
	scripts/system-packages.sh run

system-packages:
	scripts/system-packages.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the fr/nb catalogues after adding strings (needs GNU gettext); commit .po and .mo.
messages: $(VENV)/.installed
	cd src/servicedesk && ../../$(BIN)/servicedesk makemessages -l fr -l nb --ignore '*/migrations/*' --no-obsolete
	cd src/servicedesk && ../../$(BIN)/servicedesk compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache
