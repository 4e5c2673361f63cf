# The two commands of the README.  Both set the machine up first (scripts/setup.sh).
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test setup adds a headless browser (the report test); `make run` does not need one.
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test slow setup lint bench diagrams vectors mutants mutants-check interop clean

run: $(STAMP)
	$(BIN)/ipsecmm explore

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

# The searches too long for CI (every shipped scenario under every option);
# CI runs the same tests on a sample.
slow: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m slow

# A real MOBIKE peer (root; docs/interop.md): installs strongSwan and tshark when
# missing, runs two charon daemons in network namespaces once per case, captures
# each run into INTEROP_OUT and replays it with `ipsecmm trace`, then runs the
# tests marked `interop`.  `make interop INTEROP_OUT=tests/fixtures/strongswan`
# refreshes the committed captures the default test run replays.
INTEROP_OUT   ?= build/interop
INTEROP_CASES := addrdel linkdown v6 paths

interop: $(TEST_STAMP)
	sh scripts/interop/install.sh
	for c in $(INTEROP_CASES); do bash scripts/interop/strongswan.sh $$c $(INTEROP_OUT) || exit 1; done
	$(BIN)/python scripts/interop/replay.py $(INTEROP_OUT)
	$(BIN)/python -m pytest -q -m interop

setup: $(STAMP)

# setup.sh exits non-zero when a required package cannot be installed: make
# stops before `touch`, so no stamp is written and the next run tries again.
$(STAMP): pyproject.toml scripts/setup.sh scripts/apt.sh
	sh scripts/setup.sh
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml scripts/setup.sh scripts/apt.sh
	sh scripts/setup.sh --test
	touch $(STAMP) $(TEST_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ipsecmm model properties gen wire tests bench scripts
	$(BIN)/mypy ipsecmm model properties gen wire

bench: $(STAMP)
	$(BIN)/python bench/explore.py

# Redraw the committed diagrams/ after the tables change (a test fails until then).
diagrams: $(STAMP)
	$(BIN)/ipsecmm diagrams

# Regenerate the canonical conformance vectors (a test fails until then).
vectors: $(STAMP)
	$(BIN)/ipsecmm vectors --out vectors

# Judge every generated mutant on every shipped scenario and rewrite the
# committed result (a test fails when the tables change until then).  Exit 1
# only means that some mutant survives: the file is written either way.
# The committed result judges a sample (every EVERY-th mutant); EVERY=1 judges
# all of them, which takes hours on two cores.
EVERY ?= 10
mutants: $(STAMP)
	$(BIN)/ipsecmm mutants --generated --every $(EVERY) --out properties/mutants.json || [ $$? -eq 1 ]

# The same run as a test: the committed result must be what the code gives now.
mutants-check: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m slow tests/test_genmutants.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
