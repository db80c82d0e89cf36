# Two commands do all set-up on a fresh machine (a Rust toolchain and Python 3.9+ needed):
#   make test   builds and installs the package into .venv, runs cargo test and pytest
#   make demo   the same set-up, then a short example
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medpay-installed
SOURCES := $(shell find rust/src python -name '*.rs' -o -name '*.py' -o -name '*.html' -o -name '*.css' -o -name '*.js' 2>/dev/null) Cargo.toml rust/Cargo.toml pyproject.toml

.PHONY: test demo bench develop cargo-test pytest clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Release build of the extension, installed with the test extras.
$(STAMP): $(PY) $(SOURCES)
	$(PY) -m pip install --quiet "maturin>=1.5,<2"
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH \
		$(VENV)/bin/maturin develop --release --quiet --extras test
	touch $(STAMP)

develop: $(STAMP)

cargo-test:
	cargo test --workspace --quiet

pytest: $(STAMP)
	$(PY) -m pytest -q

test: develop cargo-test pytest

demo: develop
	$(PY) examples/demo_envelope.py

bench: develop
	$(PY) -m pip install --quiet -e ".[bench]" 2>/dev/null || $(PY) -m pip install --quiet gmssl==3.2.2 cryptography
	$(PY) bench/bench_envelope.py

clean:
	rm -rf $(VENV) target
