"""The benchmarks' shared set-up. They run with pytest-benchmark:

    make bench                    # the full run, then the side-by-side table (bench/report.py)
    MEDPAY_BENCH_QUICK=1 pytest bench --benchmark-min-rounds=1 ...   # CI's short mode

Each case is a group of contenders (medpay, its peers, a floor) measured in the same run;
bench/report.py reads the JSON pytest-benchmark writes and prints the ratios. A
contender's ``extra_info`` says what it is: ``role`` (medpay, peer, floor, or part: a
piece of medpay on its own), ``unit``, and
for the round trips the client CPU per call.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import medpay_core as mp  # noqa: E402
from payloads import APP_ID, APP_SECRET  # noqa: E402

#: CI's short mode: tiny batches, to check that everything runs, never how fast.
QUICK = os.environ.get("MEDPAY_BENCH_QUICK") == "1"


class Keys:
    """An institution and a center, and each side's codec."""

    def __init__(self) -> None:
        self.inst, self.center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
        self.creds = mp.Credentials(APP_ID, APP_SECRET, self.inst, self.center.public_key())
        self.ours = mp.EnvelopeCodec(self.creds)
        self.theirs = mp.EnvelopeCodec(mp.Credentials(APP_ID, APP_SECRET, self.center, self.inst.public_key()))
        # (our private, our public, the center's public) and the center's view of them
        self.hex = (self.inst.to_hex(), self.inst.public_key().to_hex(), self.center.public_key().to_hex())
        self.center_hex = (self.center.to_hex(), self.center.public_key().to_hex(), self.inst.public_key().to_hex())


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


def contender(benchmark: Any, group: str, name: str, role: str, unit: str = "ops/s", **info: Any) -> None:
    """Label a benchmark as ``name`` in ``group`` for the report."""
    benchmark.group = group
    benchmark.extra_info.update(contender=name, role=role, unit=unit, **info)


def cpu_per_call(benchmark: Any, batch: Callable[[], int], rounds: int) -> None:
    """Run ``batch`` (which makes some calls and returns how many) ``rounds`` times under
    pytest-benchmark, and keep the client's CPU time per call of the least disturbed round
    (the process's CPU time: the center is another process)."""
    samples: list[float] = []

    def timed() -> None:
        c0 = time.process_time()
        n = batch()
        samples.append((time.process_time() - c0) / n)

    batch()  # warm up: connections, caches
    benchmark.pedantic(timed, rounds=rounds, iterations=1)
    benchmark.extra_info["cpu_us_per_call"] = min(samples) * 1e6


@pytest.fixture(scope="session")
def center(keys: Keys, tmp_path_factory: Any) -> Iterator[str]:
    """The stand-in center (bench/center.py) in its own process; its base URL."""
    import center_server as cs
    from payloads import query_6301

    answer = tmp_path_factory.mktemp("center") / "answer.json"
    answer.write_bytes(keys.theirs.pack_json(cs.default_response("query_order_info", query_6301()), code=0,
                                             message="成功", success=True))
    proc = subprocess.Popen([sys.executable, str(HERE / "center.py"), str(answer)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
