# The two commands of the README.  Both set the machine up first (scripts/setup.sh).
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint bench clean

run: $(STAMP)
	$(BIN)/ipsecmm explore

test: $(STAMP)
	$(BIN)/python -m pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	sh scripts/setup.sh
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ipsecmm model properties gen tests bench
	$(BIN)/mypy ipsecmm model properties gen

bench: $(STAMP)
	$(BIN)/python bench/explore.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
