"""A gateway serving many institutions: one client and its connection pool, each call
signed with the institution's own credentials (``with_options``), every exchange archived
by the audit hook, against a sandbox that knows 200 institutions."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import medpay_core as mp
from medpay_core.client import Exchange, MedpayClient
from medpay_core.sandbox import SandboxServer
from medpay_core.sandbox.demo import query_of, sample_fee_upload
from medpay_core.asgi import create_app
from medpay_core.callbacks import SQLiteNoticeStore
from medpay_core.sandbox import generate_config
from medpay_core.sandbox.server import ThreadedASGIServer
from sandbox_support import client_credentials, wait_until

INSTITUTIONS = 200


class NoticeApp:
    """The gateway's one notice app: institutions resolved per appId by a function (as a
    gateway of hundreds would, from its database), notices recorded per appId."""

    def __init__(self, tmp: Path):
        self.codecs: dict[str, mp.EnvelopeCodec] = {}
        self.resolved: list[str] = []
        self.settled: set[str] = set()
        self._lock = threading.Lock()
        app = create_app(self.resolve, self.record, store=SQLiteNoticeStore(tmp / "notices.db"))
        self.server = ThreadedASGIServer(app).start()

    def resolve(self, app_id: str):
        self.resolved.append(app_id)
        return self.codecs.get(app_id)

    def record(self, notice) -> bool:
        with self._lock:
            self.settled.add(notice.pay_ord_id)
        return True


@pytest.fixture(scope="module")
def gateway_sandbox(tmp_path_factory):
    notices = NoticeApp(tmp_path_factory.mktemp("gateway"))
    raw = generate_config(notify_url=notices.server.url + "/medpay/notify",
                          return_url=notices.server.url + "/medpay/return", institutions=INSTITUTIONS,
                          org_codg="H00000000001")
    raw["notify"] = {"maxAttempts": 50, "baseDelay": 0.02, "maxDelay": 0.2, "timeout": 5.0}
    for c in raw["client"]:
        notices.codecs[c["appId"]] = mp.EnvelopeCodec(mp.Credentials(
            c["appId"], c["appSecret"], c["privateKey"], c["peerPublicKey"]))
    with SandboxServer(raw) as sb:
        sb.notices = notices
        yield sb, raw
    notices.server.stop()


def test_one_client_serves_200_institutions_each_with_its_own_credentials(gateway_sandbox):
    sb, raw = gateway_sandbox
    codecs = [mp.EnvelopeCodec(client_credentials(raw, i)) for i in range(INSTITUTIONS)]
    archive: list[Exchange] = []
    paid: dict[str, str] = {}
    with MedpayClient(sb.url, codecs[0], timeout=10, retries=0, audit=archive.append) as client:
        for i, codec in enumerate(codecs):
            inst = raw["institutions"][i]
            view = client.with_options(credentials=codec)
            up = sample_fee_upload(f"MO{i:05d}", org_codg=inst["orgCodg"])
            order = view.upload_fees(up)
            view.pay_order({"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                            "orgCodg": up["orgCodg"], "orgBizSer": f"BIZ{i:05d}", "chrgBchno": up["chrgBchno"],
                            "feeType": up["feeType"], "mdtrtId": "MD0001"})
            state = view.query_order(query_of(up, order.pay_ord_id, order.pay_token))
            assert state.pay_ord_id == order.pay_ord_id
            paid[order.pay_ord_id] = codec.credentials.app_id
            view.close()  # a view's close leaves the shared pool open
        assert client.codec is codecs[0]  # the views never changed the client itself
    assert len(archive) == 3 * INSTITUTIONS
    # Every exchange was signed as its institution, and is archived byte for byte.
    for n, ex in enumerate(archive):
        sent = json.loads(ex.request)
        assert sent["appId"] == codecs[n // 3].credentials.app_id
        assert ex.status == 200 and ex.response
        assert codecs[n // 3].unpack(ex.response).code == 0
    # The one notice app resolved each institution once and recorded each settlement once.
    notices = sb.notices
    wait_until(lambda: len(notices.settled) >= INSTITUTIONS, tries=3000)
    assert set(notices.settled) == set(paid)
    assert sorted(notices.resolved) == sorted(set(notices.resolved)) == sorted(paid.values())


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


def test_institutions_resolve_each_app_id_once_and_refuse_the_unknown():
    creds = mp.Credentials("APP1000000000000", "S" * 32)
    calls: list[str] = []

    def resolve(app_id: str):
        calls.append(app_id)
        return {"APP1000000000000": creds, "APP2000000000000": creds}.get(app_id)

    found = mp.Institutions(resolve)
    assert found.codec("APP1000000000000") is found.codec("APP1000000000000")
    assert calls == ["APP1000000000000"] and found.open and found.only() is None
    with pytest.raises(mp.UnknownAppIdError) as e:
        found.codec("APP9000000000000")
    assert e.value.app_id == "APP9000000000000"
    with pytest.raises(ValueError, match="another appId"):
        found.codec("APP2000000000000")  # a resolver that answers with the wrong institution
    with pytest.raises(TypeError):
        mp.Institutions(42)
    assert mp.Institutions({"x": creds}).only().credentials.app_id == "APP1000000000000"
