"""What a published package carries: the declared licence (MIT OR Apache-2.0) as a PEP 639
expression with both licence files, in the installed metadata and in the sdist."""

import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LICENSES = {"LICENSE-MIT", "LICENSE-APACHE"}


def test_the_installed_package_declares_its_licence_and_carries_both_files():
    meta = importlib.metadata.metadata("medpay-core")
    assert meta["License-Expression"] == "MIT OR Apache-2.0"
    assert set(meta.get_all("License-File") or []) == LICENSES
    files = {Path(str(f)).name for f in importlib.metadata.files("medpay-core") or []}
    assert LICENSES <= files
    assert "Typing :: Typed" in (meta.get_all("Classifier") or [])


def test_the_sdist_carries_both_licence_files_and_the_crate(tmp_path):
    maturin = shutil.which("maturin", path=str(Path(sys.executable).parent)) or shutil.which("maturin")
    if maturin is None:
        pytest.fail("maturin is a build requirement: it should be installed with the package")
    subprocess.run([maturin, "sdist", "-o", str(tmp_path)], cwd=ROOT, check=True, capture_output=True)
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
        pkg_info = t.extractfile(next(m for m in t.getmembers() if m.name.endswith("/PKG-INFO"))).read().decode()
    assert LICENSES <= names
    assert "rust/Cargo.toml" in names and "python/medpay_core/__init__.py" in names
    assert "License-Expression: MIT OR Apache-2.0" in pkg_info
