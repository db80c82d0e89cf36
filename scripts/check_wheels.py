"""Check what `make wheels` left in dist/: each wheel's platform tag against auditwheel's
policies (manylinux2014 = glibc 2.17), its abi3 symbols with abi3audit, the licence files
inside it; the sdist's licence files; then install the wheel of this machine's architecture
in a fresh virtualenv with no Rust on PATH and pack and unpack an envelope with it.

    python scripts/check_wheels.py dist
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


def smoke(whl: Path) -> None:
    with tempfile.TemporaryDirectory() as d:
        venv.create(d, with_pip=True)
        py = str(Path(d) / "bin" / "python")
        env = {"PATH": f"{d}/bin:/usr/bin:/bin", "HOME": d, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        for k in ("PIP_INDEX_URL", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            if k in os.environ:
                env[k] = os.environ[k]
        if run("/bin/sh", "-c", "command -v cargo rustc || true", env=env).strip():
            fail("Rust is on the smoke test's PATH")
        run(py, "-m", "pip", "install", "--quiet", str(whl), env=env)
        out = run(py, "-c", SMOKE, env=env, cwd=d)
        print(f"{whl.name}: installed in a fresh venv without Rust: {out.strip()}")


def main() -> None:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    wheels = sorted(dist.glob("*.whl"))
    arches = {check_wheel(w) for w in wheels}
    if arches != ARCHES:
        fail(f"wheels for {sorted(arches)}, wanted {sorted(ARCHES)}")
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
    print(json.dumps({"wheels": [w.name for w in wheels], "sdist": sdists[0].name}))


if __name__ == "__main__":
    main()
