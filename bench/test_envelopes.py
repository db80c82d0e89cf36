"""Envelopes from Python: medpay's pack and unpack against the peer stacks of
bench/peers.py, a 6201 upload's cost per fee line at 30 and at 1,000 lines, and the batch
calls on every core against one thread."""

from __future__ import annotations

import os
import tracemalloc
from typing import Any

import pytest

import medpay_core as mp
from conftest import QUICK, contender
from payloads import APP_ID, APP_SECRET, query_6301, upload_6201
from peers import FastPeerStack, PureGmsslStack

CASES = {"6301 query": query_6301, "6201 upload, 30 lines": lambda: upload_6201(30)}


@pytest.mark.parametrize("op", ["pack", "unpack"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("who", ["medpay", FastPeerStack.name, PureGmsslStack.name])
def test_envelope(benchmark: Any, keys: Any, who: str, case: str, op: str) -> None:
    data = CASES[case]()
    fast_center = FastPeerStack(APP_ID, APP_SECRET, *keys.center_hex)
    body = fast_center.pack(data)  # the center's answer, packed by an independent stack
    contender(benchmark, f"{op} {case}", who, "medpay" if who == "medpay" else "peer")
    if who == "medpay":
        assert keys.ours.unpack(body).data == data  # interoperable
        benchmark(keys.ours.pack_json, data) if op == "pack" else benchmark(keys.ours.unpack, body)
        return
    if who == PureGmsslStack.name and QUICK is False and case.startswith("6201"):
        benchmark.extra_info["note"] = "few rounds: about half a second a call"
    stack = (FastPeerStack if who == FastPeerStack.name else PureGmsslStack)(APP_ID, APP_SECRET, *keys.hex)
    assert stack.unpack(keys.theirs.pack_json(data)) == data
    fn = (lambda: stack.pack(data)) if op == "pack" else (lambda: stack.unpack(body))
    if who == PureGmsslStack.name:
        benchmark.pedantic(fn, rounds=1 if QUICK else 3, iterations=1, warmup_rounds=0)
    else:
        benchmark(fn)


@pytest.mark.parametrize("op", ["pack", "unpack"])
@pytest.mark.parametrize("lines", [30, 1000])
def test_upload_cost_per_line(benchmark: Any, keys: Any, lines: int, op: str) -> None:
    # Target: 1,000 lines cost per line within 1.25x of 30 lines, and memory stays
    # proportional (the peak of Python allocations while packing or unpacking, per line).
    data = upload_6201(lines)
    body = keys.theirs.pack_json(data)
    fn = (lambda: keys.ours.pack_json(data)) if op == "pack" else (lambda: keys.ours.unpack(body))
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    contender(benchmark, f"6201 {op}, per fee line", f"{lines} lines", "medpay" if lines == 1000 else "floor",
              "µs/line", items=lines, peak_bytes_per_line=peak / lines)
    benchmark(fn)


BATCH = 200 if QUICK else 2000


@pytest.mark.parametrize("threads", [None, 1], ids=["all-cores", "1-thread"])
@pytest.mark.parametrize("case", ["pack_many", "unpack_many", "sign_many", "verify_many"])
def test_batches(benchmark: Any, keys: Any, case: str, threads: Any) -> None:
    batch = [query_6301() for _ in range(BATCH)]
    msgs = [b"appId=%d" % i for i in range(BATCH)]
    sigs = mp.sign_many(keys.inst, msgs)
    bodies = keys.theirs.pack_many(batch)
    pub = keys.inst.public_key()
    fns = {
        "pack_many": lambda: keys.ours.pack_many(batch, threads=threads),
        "unpack_many": lambda: keys.ours.unpack_many(bodies, threads=threads),
        "sign_many": lambda: mp.sign_many(keys.inst, msgs, threads=threads),
        "verify_many": lambda: mp.verify_many(pub, msgs, sigs, threads=threads),
    }
    name = f"medpay, {os.cpu_count()} cores" if threads is None else "medpay, 1 thread"
    contender(benchmark, f"{case} 6301 x{BATCH}", name, "medpay" if threads is None else "peer", "items/s",
              items=BATCH)
    benchmark(fns[case])
