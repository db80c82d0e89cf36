"""The benchmarks run end to end in their short mode, as CI runs them: pytest-benchmark on
bench/ with tiny batches, its JSON kept in .benchmarks/ci-quick.json, and the report printed
from it. This checks that every case runs and is reported, never its times."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JSON = ROOT / ".benchmarks" / "ci-quick.json"


def test_the_benchmarks_run_in_short_mode_and_report_every_case():
    for peer in ("gmssl_fast", "cryptography", "pytest_benchmark", "urllib3", "aiohttp"):
        pytest.importorskip(peer)
    JSON.parent.mkdir(exist_ok=True)
    env = {**os.environ, "MEDPAY_BENCH_QUICK": "1"}
    r = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "bench"), "-q", "-p", "no:cacheprovider",
                        "--benchmark-only", "--benchmark-min-rounds=1", "--benchmark-max-time=0.000001",
                        "--benchmark-warmup=off", f"--benchmark-json={JSON}"],
                       capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    groups = {b["group"] for b in json.loads(JSON.read_text())["benchmarks"]}
    for case in ("SM4-ECB 4 KiB", "SM3 4 KiB", "SM2 sign", "SM2 verify", "pack 6301 query",
                 "unpack 6201 upload, 30 lines", "6201 unpack, per fee line", "pack_many 6301 x200",
                 "6301 round trip, sync", "6301 round trip, async, 32 in flight"):
        assert case in groups, case
    report = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(JSON)],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    for row in ("MedpayClient.query_order", "AsyncMedpayClient.query_order", "http.client, pre-packed",
                "aiohttp, pre-packed", "cryptography + gmssl-fast", "gmssl (pure Python)", "1000 lines",
                "openssl speed ecdsap256", "x the floor", "target"):
        assert row in report.stdout, row
