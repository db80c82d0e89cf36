"""python/medpay_core/_native.pyi agrees with the built module (mypy's stubtest) and is
clean under mypy --strict."""

import subprocess
import sys
from pathlib import Path

STUB = Path(__file__).parent.parent / "python" / "medpay_core" / "_native.pyi"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)


def test_stubtest_finds_no_difference_between_the_stub_and_the_module():
    r = run("mypy.stubtest", "medpay_core._native")
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_stub_is_clean_under_mypy_strict():
    r = run("mypy", "--strict", "--no-incremental", str(STUB))
    assert r.returncode == 0, r.stdout + r.stderr
