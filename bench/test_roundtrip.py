"""A gateway's whole round trip: client CPU per 6301 query against a stand-in center in
another process (bench/center.py), for medpay's clients with their default construction
and for the bare HTTP stacks posting pre-packed bytes (the floors: nothing is signed,
encrypted, verified or validated there), medpay's own transports among them (the ``part``
rows: what the clients' HTTP costs on its own).

Targets: ``MedpayClient`` at most 3.0x the ``http.client`` floor; ``AsyncMedpayClient``
with 32 requests in flight at most 2.0x the aiohttp floor.
"""

from __future__ import annotations

import asyncio
import http.client
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest

import medpay_core as mp
from conftest import QUICK, contender, cpu_per_call
from payloads import query_6301

PATH = "/org/local/api/hos/query_order_info"
HEADERS = {"Content-Type": "application/json;charset=UTF-8", "Accept": "application/json"}
SYNC_CALLS = 50 if QUICK else 2000
IN_FLIGHT = 32
ASYNC_CALLS = IN_FLIGHT * (2 if QUICK else 60)
ROUNDS = 1 if QUICK else 5
TARGETS = {"6301 round trip, sync": 3.0, f"6301 round trip, async, {IN_FLIGHT} in flight": 2.0}


def _sync_contenders(url: str, keys: Any) -> dict[str, tuple[str, Callable[[], Any], Callable[[], None]]]:
    body = keys.ours.pack_json(query_6301())
    host, port = urlsplit(url).hostname, urlsplit(url).port

    def stdlib() -> tuple[Callable[[], Any], Callable[[], None]]:
        conn = http.client.HTTPConnection(host, port)

        def call() -> Any:
            conn.request("POST", PATH, body, HEADERS)
            return conn.getresponse().read()
        return call, conn.close

    def urllib3_() -> tuple[Callable[[], Any], Callable[[], None]]:
        import urllib3

        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
        return (lambda: pool.urlopen("POST", PATH, body=body, headers=HEADERS).data), pool.close

    def httpx_() -> tuple[Callable[[], Any], Callable[[], None]]:
        import httpx

        c = httpx.Client(trust_env=False)
        return (lambda: c.post(url + PATH, content=body, headers=HEADERS).content), c.close

    def medpay() -> tuple[Callable[[], Any], Callable[[], None]]:
        c = mp.MedpayClient(url, keys.creds)
        query = query_6301()
        return (lambda: c.query_order(query)), c.close

    def transport() -> tuple[Callable[[], Any], Callable[[], None]]:
        t = mp.HttpTransport()
        return (lambda: t.post(url + PATH, body, HEADERS, None, 1 << 20)), t.close

    return {"http.client, pre-packed": ("floor", *stdlib()), "urllib3, pre-packed": ("peer", *urllib3_()),
            "httpx, pre-packed": ("peer", *httpx_()), "MedpayClient.query_order": ("medpay", *medpay()),
            "medpay's HttpTransport, pre-packed": ("part", *transport())}


SYNC = ["http.client, pre-packed", "urllib3, pre-packed", "httpx, pre-packed", "MedpayClient.query_order",
        "medpay's HttpTransport, pre-packed"]


@pytest.mark.parametrize("who", SYNC)
def test_sync_round_trip(benchmark: Any, center: str, keys: Any, who: str) -> None:
    contenders = _sync_contenders(center, keys)
    try:
        role, call, _ = contenders[who]
        n = SYNC_CALLS // 4 if who.startswith("httpx") else SYNC_CALLS

        def batch() -> int:
            for _ in range(n):
                call()
            return n

        contender(benchmark, "6301 round trip, sync", who, role, "µs CPU/call",
                  target=TARGETS["6301 round trip, sync"])
        cpu_per_call(benchmark, batch, ROUNDS)
    finally:
        for _, _, close in contenders.values():
            close()


ASYNC = ["aiohttp, pre-packed", "httpx async, pre-packed", "AsyncMedpayClient.query_order",
         "medpay's AsyncioTransport, pre-packed"]


@pytest.mark.parametrize("who", ASYNC)
def test_async_round_trip(benchmark: Any, center: str, keys: Any, who: str) -> None:
    body = keys.ours.pack_json(query_6301())
    loop = asyncio.new_event_loop()
    group = f"6301 round trip, async, {IN_FLIGHT} in flight"

    async def setup() -> tuple[Callable[[], Any], Callable[[], Any]]:
        if who.startswith("aiohttp"):
            import aiohttp

            s = aiohttp.ClientSession()

            async def call() -> Any:
                async with s.post(center + PATH, data=body, headers=HEADERS) as r:
                    return await r.read()
            return call, s.close
        if who.startswith("medpay's"):
            t = mp.AsyncioTransport()
            return (lambda: t.post(center + PATH, body, HEADERS, None, 1 << 20)), t.aclose
        if who.startswith("httpx"):
            import httpx

            c = httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=IN_FLIGHT))

            async def call() -> Any:
                return (await c.post(center + PATH, content=body, headers=HEADERS)).content
            return call, c.aclose
        client = mp.AsyncMedpayClient(center, keys.creds)
        query = query_6301()
        return (lambda: client.query_order(query)), client.aclose

    call, close = loop.run_until_complete(setup())
    per_worker = ASYNC_CALLS // IN_FLIGHT // (4 if who.startswith("httpx") else 1) or 1

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    async def all_in_flight() -> int:
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return per_worker * IN_FLIGHT

    try:
        role = ("floor" if who.startswith("aiohttp") else "medpay" if who.startswith("Async") else
                "part" if who.startswith("medpay's") else "peer")
        contender(benchmark, group, who, role, "µs CPU/call", target=TARGETS[group])
        cpu_per_call(benchmark, lambda: loop.run_until_complete(all_in_flight()), ROUNDS)
    finally:
        loop.run_until_complete(close())
        loop.close()
