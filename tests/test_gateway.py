"""A gateway serving many institutions: one client and its connection pool, each call
signed with the institution's own credentials (``with_options``), every exchange archived
by the audit hook, against a sandbox that knows 200 institutions."""

from __future__ import annotations

import json

import pytest

import medpay_core as mp
from medpay_core.client import Exchange, MedpayClient
from medpay_core.sandbox import SandboxServer
from medpay_core.sandbox.demo import query_of, sample_fee_upload
from sandbox_support import NoticeSink, client_credentials, make_config

INSTITUTIONS = 200


@pytest.fixture(scope="module")
def gateway_sandbox():
    sink = NoticeSink()
    raw = make_config(sink, institutions=INSTITUTIONS)
    with SandboxServer(raw) as sb:
        yield sb, raw
    sink.close()


def test_one_client_serves_200_institutions_each_with_its_own_credentials(gateway_sandbox):
    sb, raw = gateway_sandbox
    codecs = [mp.EnvelopeCodec(client_credentials(raw, i)) for i in range(INSTITUTIONS)]
    archive: list[Exchange] = []
    with MedpayClient(sb.url, codecs[0], timeout=10, retries=0, audit=archive.append) as client:
        for i, codec in enumerate(codecs):
            inst = raw["institutions"][i]
            view = client.with_options(credentials=codec)
            up = sample_fee_upload(f"MO{i:05d}", org_codg=inst["orgCodg"])
            order = view.upload_fees(up)
            state = view.query_order(query_of(up, order.pay_ord_id, order.pay_token))
            assert state.pay_ord_id == order.pay_ord_id
            view.close()  # a view's close leaves the shared pool open
        assert client.codec is codecs[0]  # the views never changed the client itself
    assert len(archive) == 2 * INSTITUTIONS
    # Every exchange was signed as its institution, and is archived byte for byte.
    for n, ex in enumerate(archive):
        sent = json.loads(ex.request)
        assert sent["appId"] == codecs[n // 2].credentials.app_id
        assert ex.status == 200 and ex.response
        assert codecs[n // 2].unpack(ex.response).code == 0


def test_a_view_with_a_short_timeout_gives_up_while_the_client_keeps_its_own(gateway_sandbox, center):
    from center_server import query_request, slow

    with MedpayClient(center.url, center.inst_credentials, timeout=10, retries=0) as client:
        center.enqueue("query_order_info", slow(3))
        with pytest.raises(mp.TransportError):
            client.with_options(timeout=0.3).query_order(query_request())
        assert client.query_order(query_request()).pay_ord_id


def test_a_view_needs_complete_credentials(gateway_sandbox):
    sb, raw = gateway_sandbox
    with MedpayClient(sb.url, client_credentials(raw, 0)) as client:
        with pytest.raises(ValueError, match="private key"):
            client.with_options(credentials=mp.Credentials("APP1000000000000", "S" * 32))


def test_the_async_client_serves_several_institutions_through_views(gateway_sandbox):
    import asyncio

    sb, raw = gateway_sandbox
    codecs = [mp.EnvelopeCodec(client_credentials(raw, i)) for i in range(5)]

    async def main() -> list[str]:
        archive: list[Exchange] = []
        async with mp.AsyncMedpayClient(sb.url, codecs[0], timeout=10, retries=0, audit=archive.append) as client:
            async def one(i: int) -> str:
                view = client.with_options(credentials=codecs[i], timeout=5)
                up = sample_fee_upload(f"MA{i:05d}", org_codg=raw["institutions"][i]["orgCodg"])
                order = await view.upload_fees(up)
                await view.aclose()
                return order.pay_ord_id

            ids = await asyncio.gather(*(one(i) for i in range(5)))
            # the pool is still open after the views closed
            up = sample_fee_upload("MA99999", org_codg=raw["institutions"][0]["orgCodg"])
            await client.upload_fees(up)
        assert sorted(json.loads(x.request)["appId"] for x in archive[:5]) == sorted(
            c.credentials.app_id for c in codecs)
        return ids

    assert len(set(asyncio.run(main()))) == 5
