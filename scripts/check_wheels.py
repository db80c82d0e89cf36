"""Check what `make wheels` left in dist/: each wheel's platform tag against auditwheel's
policies (manylinux2014 = glibc 2.17), its abi3 symbols with abi3audit, the licence files
inside it; the sdist's licence files; then install the wheel of this machine's architecture
in a fresh virtualenv with no Rust on PATH and pack and unpack an envelope with it.

    python scripts/check_wheels.py dist                     # make wheels: both arches, an sdist
    python scripts/check_wheels.py dist --arches x86_64     # make test: this machine's wheel only
    python scripts/check_wheels.py dist --build-sdist       # also build the sdist from source

``--build-sdist`` installs the sdist in a fresh venv with pip, which compiles the crate with
the cargo on PATH (a plain Rust toolchain, nothing else), and runs the same smoke test.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

LICENSES = ("LICENSE-MIT", "LICENSE-APACHE")
ARCHES = {"x86_64", "aarch64"}
# Symbols of a later limited API the extension may reference: it calls them only on the
# interpreters that have them in the limited API, and every CPython 3 exports them, so the
# wheel still loads on 3.9 (rust/src/python.rs, str_text).
LATER_ABI3_ALLOWED = {"PyUnicode_AsUTF8AndSize"}

SMOKE = r"""
import medpay_core as mp
inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
app_id, secret = "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"
ours = mp.EnvelopeCodec(mp.Credentials(app_id, secret, inst, center.public_key()))
theirs = mp.EnvelopeCodec(mp.Credentials(app_id, secret, center, inst.public_key()))
data = {"payOrdId": "ORD1", "feedetailList": [{"feedetlSn": f"FD{i}", "amt": "12.50"} for i in range(300)]}
assert ours.unpack(theirs.pack_json(data)).data == data
assert mp.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
# The pages' templates and stylesheet are package data: a page renders, styled.
from medpay_core.pages import render_message_page
page = render_message_page("link_invalid")
assert "请返回医院重新发起支付" in page and "--primary: #3B71E8" in page, page[:200]
print("smoke ok", mp.__version__)
"""


def fail(msg: str) -> None:
    print(f"check_wheels: {msg}", file=sys.stderr)
    sys.exit(1)


def run(*cmd: str, **kw) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def check_wheel(whl: Path) -> str:
    name = whl.name
    arch = next((a for a in ARCHES if name.endswith(f"_{a}.whl")), None)
    if arch is None or "-cp39-abi3-" not in name or "manylinux_2_17" not in name:
        fail(f"{name}: not an abi3 manylinux2014 wheel of {sorted(ARCHES)}")
    show = run(sys.executable, "-m", "auditwheel", "show", str(whl))
    if "manylinux_2_17" not in show.replace("\n", " "):
        fail(f"{name}: auditwheel does not place it in manylinux_2_17:\n{show}")
    # abi3audit exits 1 for a mismatch too: its report is read instead.
    audit = subprocess.run([sys.executable, "-m", "abi3audit", "--report", str(whl)], capture_output=True, text=True)
    try:
        report = json.loads(audit.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"{name}: no report from abi3audit:\n{audit.stdout}{audit.stderr}")
    for spec in report["specs"].values():
        for ext in spec["wheel"]:
            result = ext["result"]
            later = set(result.get("future_abi3_objects") or {}) - LATER_ABI3_ALLOWED
            if not result["is_abi3"] or result["non_abi3_symbols"] or later:
                fail(f"{name}: {ext['name']} is not abi3 for 3.9: {result}")
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
    for lic in LICENSES:
        if not any(n.endswith(f".dist-info/licenses/{lic}") for n in names):
            fail(f"{name}: {lic} missing")
    print(f"{name}: manylinux_2_17 {arch}, abi3 clean, licences in")
    return arch


def smoke(package: Path, *, with_rust: bool = False) -> None:
    """Install ``package`` (a wheel, or with ``with_rust`` an sdist) in a fresh venv and run
    SMOKE. A wheel is installed with no Rust on PATH; an sdist with only the toolchain's
    bin directory added (cargo, rustc)."""
    with tempfile.TemporaryDirectory() as d:
        venv.create(d, with_pip=True)
        py = str(Path(d) / "bin" / "python")
        path = f"{d}/bin:/usr/bin:/bin"
        if with_rust:
            cargo = run("/bin/sh", "-c", "command -v cargo").strip()
            path = f"{Path(cargo).parent}:{path}"
        env = {"PATH": path, "HOME": d, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        for k in ("PIP_INDEX_URL", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "RUSTUP_HOME", "CARGO_HOME"):
            if k in os.environ:
                env[k] = os.environ[k]
        if with_rust and "RUSTUP_HOME" not in env:
            env["RUSTUP_HOME"] = str(Path.home() / ".rustup")
            env["CARGO_HOME"] = str(Path.home() / ".cargo")
        if not with_rust and run("/bin/sh", "-c", "command -v cargo rustc || true", env=env).strip():
            fail("Rust is on the smoke test's PATH")
        run(py, "-m", "pip", "install", "--quiet", str(package), env=env)
        out = run(py, "-c", SMOKE, env=env, cwd=d)
        how = "built from source with cargo" if with_rust else "installed in a fresh venv without Rust"
        print(f"{package.name}: {how}: {out.strip()}")


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="check the wheels and the sdist of make wheels")
    p.add_argument("dist", nargs="?", default="dist")
    p.add_argument("--arches", nargs="+", default=sorted(ARCHES), choices=sorted(ARCHES))
    p.add_argument("--build-sdist", action="store_true", help="also build and smoke-test the sdist")
    args = p.parse_args()
    dist = Path(args.dist)
    wheels = sorted(dist.glob("*.whl"))
    arches = {check_wheel(w) for w in wheels}
    if arches != set(args.arches):
        fail(f"wheels for {sorted(arches)}, wanted {sorted(args.arches)}")
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(sdists) != 1:
        fail("one sdist expected")
    with tarfile.open(sdists[0]) as t:
        members = {m.split("/", 1)[-1] for m in t.getnames()}
    if not all(lic in members for lic in LICENSES) or "rust/Cargo.toml" not in members:
        fail(f"{sdists[0].name}: licences or the crate missing")
    print(f"{sdists[0].name}: licences and the crate in")
    native = next(w for w in wheels if w.name.endswith(f"_{platform.machine()}.whl"))
    smoke(native)
    if args.build_sdist:
        smoke(sdists[0], with_rust=True)
    print(json.dumps({"wheels": [w.name for w in wheels], "sdist": sdists[0].name}))


if __name__ == "__main__":
    main()
