#!/usr/bin/env bash
# The Python tests of the core, run on the aarch64 abi3 wheel by an arm64 Debian
# (bookworm, Python 3.11) interpreter under qemu-user. Called by `make test-aarch64`
# after the crate's own tests; idempotent, and a second run reuses the userland.
#
# How, and why this way:
#   * The userland is `debootstrap --arch=arm64 --foreign` (downloads and unpacks the
#     packages; nothing arm64 runs). Its second stage cannot run here: dpkg and the
#     maintainer scripts exec arm64 programs (/bin/sh, ...), and without an aarch64
#     entry in binfmt_misc (this machine has none: /proc/sys/fs/binfmt_misc is empty,
#     and registering one is a change to the host's kernel, not to this repo) neither
#     `chroot` nor an exec from inside qemu can start them. So the second stage is
#     done the way debootstrap's first stage unpacks its own packages: every .deb it
#     downloaded is unpacked with the host's dpkg-deb, without maintainer scripts.
#     Python needs none of them (they only byte-compile and register packages).
#   * The interpreter is run directly, `qemu-aarch64-static -L ROOTFS
#     ROOTFS/usr/bin/python3.11`: -L makes the loader, libc and every absolute path
#     the program opens resolve inside the rootfs first. That needs no binfmt and no
#     chroot (so works unprivileged too); it is used even where binfmt exists.
#   * Tests start `sys.executable` in subprocesses. An emulated process execs through
#     the host kernel, which cannot run an arm64 ELF without binfmt, so sys.executable
#     is a host shell script (ROOTFS/usr/bin/python3-qemu) that execs qemu again; qemu's
#     `-0` passes that script's path as argv[0] so Python reports it as sys.executable.
#     Host programs the tests call (the openssl CLI) stay host programs: the rootfs'
#     arm64 openssl is left out so `openssl` resolves to the host's.
#   * medpay_core and its runtime dependencies go into ROOTFS/opt/medpay-site with the
#     host's pip (`--platform manylinux2014_aarch64 --python-version 3.11
#     --only-binary=:all:`): aarch64 wheels from PyPI without running pip under
#     emulation; so do pytest, pytest-asyncio and hypothesis (pure Python, the test
#     extra's): bookworm's python3-hypothesis (6.67) lacks st.characters(codec=...),
#     which the property tests use.
#   * Fast paths: on aarch64 one backend is detected at run time, SM4 on the
#     Armv8.2 SM4 instructions (FEAT_SM4, as on Kunpeng 920); the others in rust/src
#     (SM3 bmi2, SM4 AES-NI/VAES/GFNI, SM2 fast-adx, hex SSSE3/AVX2/AVX-512, JSON SSE2)
#     are x86_64 only, so SM3, hex and JSON run their portable code here, and SM2 its
#     `fast` backend (plain Rust) on every CPU. The tests run once per model in
#     AARCH64_QEMU_CPUS (default "max cortex-a53"): under max every envelope goes
#     through SM4E, under cortex-a53 (plain ARMv8.0) through the portable twin. The
#     crate's tests, run by the Makefile under qemu just before this, compare the two
#     block by block.
#   * Hypothesis is slow under emulation: MEDPAY_HYPOTHESIS_MAX_EXAMPLES (default 25
#     here; set it empty for the tests' own counts, about a minute more) caps
#     max_examples, see tests/conftest.py.
#
# Environment: AARCH64_ROOTFS (default target/arm64-rootfs), DEBIAN_MIRROR,
# AARCH64_QEMU_CPUS, AARCH64_PYTEST_FILES (override the list),
# MEDPAY_HYPOTHESIS_MAX_EXAMPLES, AARCH64_SKIP_BUILD=1 (reuse the wheel in target/aarch64-wheel).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROOTFS=${AARCH64_ROOTFS:-$ROOT/target/arm64-rootfs}
ROOTFS=$(realpath -m "$ROOTFS")
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv
WHEEL_DIR=$ROOT/target/aarch64-wheel
SITE=$ROOTFS/opt/medpay-site
PYQ=$ROOTFS/usr/bin/python3-qemu
STAMP=$ROOTFS/.medpay-rootfs-ok
QEMU_CPUS=${AARCH64_QEMU_CPUS:-max cortex-a53}
export MEDPAY_HYPOTHESIS_MAX_EXAMPLES=${MEDPAY_HYPOTHESIS_MAX_EXAMPLES-25}

# The tests of the core (the native module and what drives it) that need no server,
# browser, PostgreSQL, FastAPI or mypy (test_native_stubs.py runs mypy: left out).
DEFAULT_FILES="tests/test_primitives.py tests/test_sm2.py tests/test_envelope.py tests/test_keys.py
tests/test_sign_text.py tests/test_reference_property.py tests/test_public_vectors.py tests/test_batch.py
tests/test_hostile_native.py tests/test_native_credentials.py tests/test_native_envelope_fields.py
tests/test_native_parse_json.py tests/test_native_secrets.py tests/test_large_envelopes.py
tests/test_direct_unpack.py tests/test_diagnose.py tests/test_key_rotation.py tests/test_errors.py
tests/test_models_speed_paths.py tests/test_fuzz_entry_points.py tests/test_voucher.py"
FILES=${AARCH64_PYTEST_FILES:-$DEFAULT_FILES}

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'test_aarch64_python: %s\n' "$*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

need_apt() {  # need_apt COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "$1 is missing: install $2"
    say "installing $2"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need_apt qemu-aarch64-static qemu-user-static
need_apt debootstrap debootstrap
need_apt dpkg-deb dpkg
QEMU=$(command -v qemu-aarch64-static)
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    echo "binfmt_misc: qemu-aarch64 is registered (not needed: qemu is run directly, see the header)"
else
    echo "binfmt_misc: no qemu-aarch64 entry, so no chroot; running qemu-aarch64-static -L ROOTFS directly"
fi

# --- 1. the arm64 userland ----------------------------------------------------------
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$SUITE $PACKAGES" ]; then
    say "reusing the arm64 userland in ${ROOTFS#"$ROOT"/}"
else
    t0=$(date +%s)
    tmp=$ROOTFS.tmp
    rm -rf "$tmp" "$ROOTFS"
    say "debootstrap --arch=arm64 --foreign $SUITE into ${tmp#"$ROOT"/} (from $MIRROR)"
    debootstrap --arch=arm64 --foreign --variant=minbase --include="$PACKAGES" \
        "$SUITE" "$tmp" "$MIRROR" >"$ROOT/target/arm64-debootstrap.log" 2>&1 \
        || { tail -20 "$ROOT/target/arm64-debootstrap.log" >&2; die "debootstrap failed (log: target/arm64-debootstrap.log)"; }
    say "second stage: unpacking the downloaded packages with the host's dpkg-deb (no binfmt, see the header)"
    n=0
    for deb in "$tmp"/var/cache/apt/archives/*.deb; do
        case ${deb##*/} in openssl_*) continue ;; esac  # the tests' openssl CLI is the host's
        dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$tmp"
        n=$((n + 1))
    done
    rm -f "$tmp"/var/cache/apt/archives/*.deb
    echo "$n packages unpacked"
    [ -x "$tmp/usr/bin/python3.11" ] || die "no python3.11 in the unpacked userland"
    echo "$SUITE $PACKAGES" >"$tmp/.medpay-rootfs-ok"
    mv "$tmp" "$ROOTFS"
    echo "userland ready in $(elapsed "$t0")"
fi

# sys.executable for the emulated Python (see the header); rewritten every run, as it
# holds absolute paths.
cat >"$PYQ" <<EOF
#!/bin/sh
# Host script: the arm64 Python of this rootfs under qemu-user (scripts/test_aarch64_python.sh).
exec "$QEMU" -L "$ROOTFS" -0 "$PYQ" "$ROOTFS/usr/bin/python3.11" "\$@"
EOF
chmod +x "$PYQ"
"$PYQ" -c 'import platform, sys; assert platform.machine() == "aarch64", platform.machine(); print("arm64 userland:", sys.version.split()[0], platform.machine())'

# --- 2. the aarch64 wheel -----------------------------------------------------------
[ -x "$ROOT/.venv/bin/python" ] || die "no .venv: run make develop (or python3 -m venv .venv) first"
if [ "${AARCH64_SKIP_BUILD:-0}" != 1 ]; then
    t0=$(date +%s)
    if [ ! -x "$ROOT/.venv/bin/maturin" ] || ! "$ROOT/.venv/bin/python" -c 'import ziglang' 2>/dev/null; then
        say "installing maturin and ziglang into .venv"
        "$ROOT/.venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" ziglang
    fi
    say "building the aarch64 abi3 wheel into ${WHEEL_DIR#"$ROOT"/}"
    rm -rf "$WHEEL_DIR"
    PATH=$ROOT/.venv/bin:$PATH "$ROOT/.venv/bin/maturin" build --release --zig \
        --compatibility manylinux2014 --target aarch64-unknown-linux-gnu -o "$WHEEL_DIR"
    echo "wheel built in $(elapsed "$t0")"
fi
shopt -s nullglob
wheels=("$WHEEL_DIR"/medpay_core-*-abi3-*aarch64*.whl)
shopt -u nullglob
[ ${#wheels[@]} = 1 ] || die "expected one aarch64 wheel in $WHEEL_DIR, found ${#wheels[@]}"
WHEEL=${wheels[0]}

# --- 3. the wheel and its dependencies, for the userland's Python ---------------------
t0=$(date +%s)
say "installing ${WHEEL##*/}, pytest, hypothesis and gmssl==3.2.2 into ${SITE#"$ROOT"/} (aarch64 wheels from PyPI)"
rm -rf "$SITE"
"$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
    --target "$SITE" --platform manylinux2014_aarch64 --python-version 3.11 \
    --implementation cp --abi cp311 --only-binary=:all: \
    "$WHEEL" "gmssl==3.2.2" "pytest>=7" "pytest-asyncio>=0.23" "hypothesis>=6"
echo "installed in $(elapsed "$t0")"

export PYTHONPATH=$SITE
export PYTHONDONTWRITEBYTECODE=1
# The module must be the wheel's, not python/medpay_core (the host's x86_64 build).
"$PYQ" -c 'import medpay_core, medpay_core._native as n, sys
assert medpay_core.__file__.startswith(sys.argv[1]), medpay_core.__file__
print("medpay_core", medpay_core.__version__, "from", n.__file__)' "$SITE"

# --- 4. the tests, once per CPU model --------------------------------------------------
status=0
for cpu in $QEMU_CPUS; do
    t0=$(date +%s)
    say "pytest under QEMU_CPU=$cpu (hypothesis max_examples <= ${MEDPAY_HYPOTHESIS_MAX_EXAMPLES:-no cap}): $(echo $FILES)"
    # -p no:cacheprovider: no .pytest_cache writes; rootdir stays the repo (pyproject).
    # shellcheck disable=SC2086
    QEMU_CPU=$cpu "$PYQ" -m pytest -q -p no:cacheprovider $FILES || status=$?
    echo "QEMU_CPU=$cpu: pytest exit $status in $(elapsed "$t0")"
    [ $status = 0 ] || break
done
[ $status = 0 ] || die "the Python tests failed on aarch64 (exit $status)"
say "the Python tests of the core pass on the aarch64 wheel (CPU models: $QEMU_CPUS)"
