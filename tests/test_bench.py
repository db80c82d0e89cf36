"""The benchmark runs end to end in its short mode (CI checks it works, never its times)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_bench_quick_mode_prints_every_case():
    pytest.importorskip("gmssl_fast")
    pytest.importorskip("cryptography")
    r = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    for case in ("SM4-ECB 4 KiB", "SM3 4 KiB", "SM2 sign", "SM2 verify", "pack 6301 query",
                 "unpack 6201 upload, 30 lines", "gmssl (pure Python)", "cryptography + gmssl-fast"):
        assert case in r.stdout, case
