"""The gateway of test_gateway.py through a rotation of the center's signing key: one
client and one notice app serve 200 institutions; halfway through, the sandbox is
restarted on the same database and port with a new center key. The gateway's credentials
hold ``[new, old]`` throughout (the center announced its new key before using it), so
nothing stops: every answer and every notice, signed by either key, is read; the audit
hook archives every exchange, and no notice is lost. A client holding only the old key
fails after the rotation (and one holding only the new key before it)."""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

import medpay_core as mp
from medpay_core.asgi import create_app
from medpay_core.callbacks import SQLiteNoticeStore
from medpay_core.client import Exchange, MedpayClient
from medpay_core.errors import SignatureError
from medpay_core.sandbox import SandboxServer, generate_config
from medpay_core.sandbox.demo import query_of, sample_fee_upload
from medpay_core.sandbox.server import ThreadedASGIServer
from sandbox_support import client_credentials, wait_until

INSTITUTIONS = 200
HALF = INSTITUTIONS // 2
# The last HELD institutions before the rotation: their notices are refused by the
# institution (busy) until the sandbox has restarted, so they are posted with the old key
# and delivered with the new one.
HELD = 10


class NoticeApp:
    """The gateway's one notice app (as in test_gateway.py), its institutions resolved once
    per appId with the center's keys ``[new, old]``; the bodies posted to it are kept, so
    that the test can tell which key signed each notice."""

    def __init__(self, tmp: Path):
        self.codecs: dict[str, mp.EnvelopeCodec] = {}
        self.resolved: list[str] = []
        self.settled: set[str] = set()
        self.refused: set[str] = set()
        self.hold = False  # True: answer "not processed, deliver again"
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        app = create_app(self.resolve, self.record, store=SQLiteNoticeStore(tmp / "notices.db"))
        self.server = ThreadedASGIServer(self._keeping_bodies(app)).start()

    def _keeping_bodies(self, app: Any) -> Any:
        async def keeping(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope["path"] != "/medpay/notify":
                return await app(scope, receive, send)
            chunks: list[bytes] = []

            async def recv() -> Any:
                m = await receive()
                if m["type"] == "http.request":
                    chunks.append(m.get("body", b""))
                    if not m.get("more_body"):
                        with self._lock:
                            self.bodies.append(b"".join(chunks))
                return m

            return await app(scope, recv, send)

        return keeping

    def resolve(self, app_id: str):
        self.resolved.append(app_id)
        return self.codecs.get(app_id)

    def record(self, notice) -> bool:
        with self._lock:
            if self.hold:
                self.refused.add(notice.pay_ord_id)
                return False
            self.settled.add(notice.pay_ord_id)
        return True


def rotated(raw: dict[str, Any], center: mp.SM2PrivateKey) -> dict[str, Any]:
    """The same sandbox config with the center's key replaced."""
    new = copy.deepcopy(raw)
    new["privateKey"] = center.to_hex()
    for c in new["client"]:
        c["peerPublicKey"] = center.public_key().to_hex()
    return new


def notice_states(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM notices GROUP BY status").fetchall())


def pay_request(up: dict[str, Any], order: Any, i: int) -> dict[str, Any]:
    return {"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
            "orgCodg": up["orgCodg"], "orgBizSer": f"BIZ{i:05d}", "chrgBchno": up["chrgBchno"],
            "feeType": up["feeType"], "mdtrtId": "MD0001"}


def test_a_rotation_of_the_center_key_halfway_through_200_institutions(tmp_path):
    notices = NoticeApp(tmp_path)
    raw_old = generate_config(notify_url=notices.server.url + "/medpay/notify",
                              return_url=notices.server.url + "/medpay/return", institutions=INSTITUTIONS,
                              org_codg="H00000000001")
    # Many attempts: the held notices are refused until after the restart, however slow.
    raw_old["notify"] = {"maxAttempts": 10_000, "baseDelay": 0.02, "maxDelay": 0.2, "timeout": 5.0}
    old_pub = mp.SM2PrivateKey.from_string(raw_old["privateKey"]).public_key()
    new_center = mp.SM2PrivateKey.generate()
    new_pub = new_center.public_key()
    raw_new = rotated(raw_old, new_center)
    db_path = tmp_path / "sandbox.db"

    only_old = [client_credentials(raw_old, i) for i in range(INSTITUTIONS)]
    assert all(c.peer_public_keys == (old_pub,) for c in only_old)
    both = [mp.EnvelopeCodec(mp.Credentials(c.app_id, c.app_secret, c.private_key, [new_pub, old_pub]))
            for c in only_old]
    by_key = {name: {c.app_id: mp.EnvelopeCodec(mp.Credentials(c.app_id, c.app_secret, c.private_key, pub))
                     for c in only_old} for name, pub in (("old", old_pub), ("new", new_pub))}
    for codec in both:
        notices.codecs[codec.credentials.app_id] = codec  # the notice app: [new, old] as well

    def signed_by(body: bytes) -> str:
        """Which center key signed an answer or a notice."""
        app_id = json.loads(body)["appId"]
        try:
            by_key["old"][app_id].unpack(body)
            return "old"
        except SignatureError:
            by_key["new"][app_id].unpack(body)
            return "new"

    archive: list[Exchange] = []
    orders: list[tuple[dict[str, Any], Any]] = []
    paid: dict[str, str] = {}

    def serve(client: MedpayClient, i: int) -> None:
        view = client.with_options(credentials=both[i])
        up = sample_fee_upload(f"MO{i:05d}", org_codg=raw_old["institutions"][i]["orgCodg"])
        order = view.upload_fees(up)
        view.pay_order(pay_request(up, order, i))
        assert view.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "6"
        orders.append((up, order))
        paid[order.pay_ord_id] = both[i].credentials.app_id
        view.close()

    def query(client: MedpayClient, creds: Any, i: int) -> str:
        up, order = orders[i]
        view = client.with_options(credentials=creds)
        try:
            return view.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas
        finally:
            view.close()

    sandbox = SandboxServer(raw_old, str(db_path)).start()
    try:
        with MedpayClient(sandbox.url, both[0], timeout=10, retries=0, audit=archive.append) as client:
            # 1. The first half, answered with the old key.
            for i in range(HALF):
                if i == HALF - HELD:
                    # the notices so far delivered first, so that only the held ones wait
                    wait_until(lambda: len(notices.settled) >= HALF - HELD, tries=3000)
                    notices.hold = True
                serve(client, i)
            held = {order.pay_ord_id for _, order in orders[HALF - HELD:]}
            wait_until(lambda: notices.refused >= held, tries=3000)  # each posted with the old key
            assert query(client, only_old[0], 0) == "6"  # the old key alone still does
            with pytest.raises(SignatureError):
                query(client, by_key["new"][only_old[0].app_id], 0)  # the new one is not in use yet
            before = len(archive)

            # 2. The rotation: the center restarts with its new key, on the same database
            # and port; the client, its pool and the notice app stay as they are.
            url = sandbox.url
            sandbox.stop()
            notices.hold = False
            sandbox = SandboxServer(raw_new, str(db_path), port=sandbox.port).start()
            assert sandbox.url == url

            # 3. The second half, answered with the new key; the first half's orders are
            # still there, and read.
            for i in range(HALF, INSTITUTIONS):
                serve(client, i)
            for i in range(0, HALF, 5):
                assert query(client, both[i], i) == "6"
            # The negative control: without the new key the answers no longer verify.
            with pytest.raises(SignatureError, match="signature does not verify"):
                query(client, only_old[HALF], HALF)
            assert client.codec is both[0]

            # No notice is lost: each of the 200 settled once, the held ones after the
            # restart; the center holds each as delivered.
            wait_until(lambda: len(notices.settled) >= INSTITUTIONS, tries=3000)
            wait_until(lambda: notice_states(db_path) == {"DELIVERED": INSTITUTIONS}, tries=3000)
    finally:
        sandbox.stop()
        notices.server.stop()

    assert notices.settled == set(paid) and len(paid) == INSTITUTIONS
    assert held <= notices.settled
    assert sorted(notices.resolved) == sorted(set(notices.resolved)) == sorted(paid.values())

    # Every exchange archived: 3 per institution, the 2 controls before the rotation,
    # the 20 queries and the control after; each signed as its institution, each answer
    # signed by the key the center had then.
    assert len(archive) == 3 * INSTITUTIONS + 2 + HALF // 5 + 1
    assert before == 3 * HALF + 2
    for n, ex in enumerate(archive):
        assert ex.status == 200 and ex.response and ex.error is None
        assert json.loads(ex.request)["appId"] == json.loads(ex.response)["appId"]
        assert signed_by(ex.response) == ("old" if n < before else "new"), n
    for n, ex in enumerate(archive[:3 * HALF]):
        assert json.loads(ex.request)["appId"] == both[n // 3].credentials.app_id

    # The notices: those posted before the rotation signed by the old key, after it by the
    # new; each held notice was posted with both; every one reads with [new, old].
    keys_of: dict[str, set[str]] = {}
    for body in notices.bodies:
        msg = notices.codecs[json.loads(body)["appId"]].unpack(body)
        keys_of.setdefault(msg.data["payOrdId"], set()).add(signed_by(body))
    assert set(keys_of) == set(paid)
    assert all(keys_of[p] == {"old", "new"} for p in held)
    first = {order.pay_ord_id for _, order in orders[:HALF - HELD]}
    second = {order.pay_ord_id for _, order in orders[HALF:]}
    assert all(keys_of[p] == {"old"} for p in first)
    assert all(keys_of[p] == {"new"} for p in second)
