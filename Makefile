# Two commands do all set-up on a fresh machine (a Rust toolchain and Python 3.9+ needed):
#   make test   builds and installs the package into .venv, runs the linters, cargo test,
#               pytest (the docs' code blocks and the site's build included), builds this
#               machine's wheel and installs it in a fresh venv, and a short run of each
#               cargo-fuzz target (CONTRIBUTING.md lists every target)
#   make demo   the same set-up, then `medpay demo`: a day at the counter against the sandbox
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.medpay-installed
SOURCES := $(shell find rust/src python -name '*.rs' -o -name '*.py' -o -name '*.html' -o -name '*.css' -o -name '*.js' 2>/dev/null) Cargo.toml rust/Cargo.toml pyproject.toml

.PHONY: test demo bench develop cargo-test lint rust-lint pytest clean browser postgres fuzz fuzz-smoke wheels \
	wheel-check test-aarch64 docs screenshots

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

test: browser postgres develop lint cargo-test pytest wheel-check fuzz-smoke

# ruff (the rules in pyproject.toml), then the crate's rustfmt and clippy. mypy --strict
# and stubtest run inside pytest (tests/test_client_typing.py, tests/test_native_stubs.py).
lint: $(STAMP) rust-lint
	$(VENV)/bin/ruff check .

# The crate is kept rustfmt-clean (rustfmt.toml) and clippy-clean, the binding included.
rust-lint:
	cargo fmt --all -- --check
	cd rust/fuzz && cargo fmt -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cargo clippy --manifest-path rust/Cargo.toml --features python --all-targets --quiet -- -D warnings
	@# aarch64's own code (the SM4E backend) is linted too; clippy needs only the target's std.
	rustup target list --installed | grep -qx $(AARCH64) || rustup target add $(AARCH64)
	cargo clippy --manifest-path rust/Cargo.toml --target $(AARCH64) --all-targets --quiet -- -D warnings

# Debian's headless Chromium + chromedriver (and a CJK font for screenshots) for the
# cashier page's browser tests; installed only when missing, and only as root with apt.
# Elsewhere the browser tests skip and say so (under CI they fail). Selenium never
# downloads one.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				chromium chromium-driver fonts-wqy-microhei; \
		else \
			echo "SKIPPED: installing Chromium (needs root and apt): the browser tests will skip"; \
		fi; \
	fi

# Debian's PostgreSQL server binaries for the notice-store tests (tests/pg_support.py
# starts a throwaway cluster from them on 127.0.0.1); installed only when missing, and
# only as root with apt. The Debian package's own cluster is not used.
postgres:
	@if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
		else \
			echo "SKIPPED: installing PostgreSQL (needs root and apt): the store tests will skip"; \
		fi; \
	fi

demo: develop
	$(VENV)/bin/medpay demo

# cargo-fuzz targets (rust/fuzz/): each runs FUZZ_SECONDS (default 30). libFuzzer needs
# nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := json_parse sign_text_routes envelope_open keys_and_signatures
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd rust && for t in $(FUZZ_TARGETS); do \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz -O $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 || exit 1; \
	done

# make test's short run of every fuzz target. Without CI, a machine that cannot install
# cargo-fuzz (offline) skips it and says so; in CI it must run.
FUZZ_SMOKE_SECONDS ?= 10
fuzz-smoke:
	@if command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet; then \
		$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS); \
	elif [ -n "$$CI" ]; then \
		echo "cargo-fuzz could not be installed: the fuzz targets did not run"; exit 1; \
	else \
		echo "SKIPPED: the cargo-fuzz targets (cargo-fuzz could not be installed)"; \
	fi

# pytest-benchmark runs bench/ (medpay, its peers and the floors, side by side in one run)
# and keeps the JSON; bench/report.py prints the table of ratios and targets from it.
BENCH_JSON ?= .benchmarks/medpay.json
bench: develop
	$(PY) -m pip install --quiet "gmssl==3.2.2" "gmssl-fast>=0.1" "cryptography>=41" "pytest-benchmark>=4" "urllib3>=2"
	@mkdir -p $(dir $(BENCH_JSON))
	$(PY) -m pytest bench -q -p no:cacheprovider --benchmark-only --benchmark-min-rounds=5 \
		--benchmark-json=$(BENCH_JSON) $(BENCH_ARGS)
	$(PY) bench/report.py $(BENCH_JSON)

# abi3 wheels for manylinux2014 (glibc 2.17: CentOS 7, RHEL 8, Kylin V10, UOS 20, openEuler,
# Ubuntu 20.04) on x86_64 and aarch64, linked by zig (PyPI's ziglang), and an sdist, into
# dist/; scripts/check_wheels.py checks each (auditwheel, abi3audit, the licences) and
# installs this machine's wheel in a fresh venv without Rust for a smoke test.
WHEEL_TARGETS ?= x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu
# WHEEL_DIST, WHEEL_CHECK: where, and what scripts/check_wheels.py is asked besides
# (--build-sdist: the sdist is also built from source with cargo in a fresh venv).
WHEEL_DIST ?= dist
WHEEL_CHECK ?= --build-sdist
wheels: $(PY)
	$(PY) -m pip install --quiet "maturin>=1.5,<2" ziglang auditwheel abi3audit
	rm -rf $(WHEEL_DIST)
	for t in $(WHEEL_TARGETS); do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t || exit 1; \
		PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin build --release --zig \
			--compatibility manylinux2014 --target $$t -o $(WHEEL_DIST) || exit 1; \
	done
	$(VENV)/bin/maturin sdist -o $(WHEEL_DIST)
	$(PY) scripts/check_wheels.py $(WHEEL_DIST) --arches $(foreach t,$(WHEEL_TARGETS),$(firstword $(subst -, ,$(t)))) $(WHEEL_CHECK)

# make test's part of it: this machine's manylinux2014 wheel, built, checked and installed
# in a fresh venv without Rust (into target/, so dist/ is left alone).
wheel-check:
	$(MAKE) --no-print-directory wheels WHEEL_TARGETS=$$(uname -m)-unknown-linux-gnu \
		WHEEL_DIST=target/wheel-check WHEEL_CHECK=

# The documentation site (mkdocs.yml: Chinese first, the API reference from the docstrings)
# into build/site; --strict makes any warning an error. tests/test_docs.py builds it too,
# and runs every code block of every page.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The crate's tests built for aarch64 and run under qemu-user (Debian's qemu-user-static,
# gcc-aarch64-linux-gnu as the linker), installed when missing and possible. QEMU_CPU
# (default max: every extension qemu emulates, so the SM4E backend must be found and is
# compared with the portable one) picks the CPU model. GB/T 32907's
# million-round SM4 example is left to the native run: one block at a time under
# emulation it takes the better part of an hour. Then scripts/test_aarch64_python.sh
# builds the aarch64 wheel and runs the core's Python tests on it in an arm64 Debian
# userland under qemu (cached in target/arm64-rootfs; AARCH64_QEMU_CPUS picks the models).
AARCH64 := aarch64-unknown-linux-gnu
QEMU_CPU ?= max
test-aarch64: $(PY)
	@if ! command -v qemu-aarch64-static >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross; \
	fi
	rustup target list --installed | grep -qx $(AARCH64) || rustup target add $(AARCH64)
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" \
	QEMU_CPU=$(QEMU_CPU) MEDPAY_EXPECT_SM4_BACKEND=$(if $(filter max,$(QEMU_CPU)),arm-sm4) \
		cargo test --workspace --quiet --target $(AARCH64) -- --skip gbt_32907_example_2_million_rounds
	scripts/test_aarch64_python.sh

# A PNG of every page a patient sees, in every state, into docs/screenshots/ (shown on
# docs/pages.md): the browser tests' own pages, taken by tests/test_patient_pages.py.
screenshots: $(STAMP) browser
	rm -f docs/screenshots/*.png
	MEDPAY_SCREENSHOT_DIR=$(abspath docs/screenshots) $(PY) -m pytest -q -p no:cacheprovider \
		tests/test_patient_pages.py -k test_screenshots

clean:
	rm -rf $(VENV) target
