"""What the center sends us: the 6302 notice (dedup across threads and processes), the
6204 redirect, and the ASGI app serving both (through a real uvicorn server)."""

from __future__ import annotations

import json
import multiprocessing
import threading
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount

import center_server as cs
import medpay_core as mp
from medpay_core import models
from medpay_core.asgi import create_app
from medpay_core.sandbox.server import ThreadedASGIServer
from sandbox_support import hostile_bodies
from pg_support import pg_cluster, pg_conninfo  # noqa: F401  (fixtures)
from medpay_core.callbacks import (
    MemoryNoticeStore,
    NoticeKey,
    SQLiteNoticeStore,
    UnknownAppIdError,
    decode_order_sync,
    handle_settlement_notice,
    read_json_object,
    settlement_reply,
)


@pytest.fixture(autouse=True)
def default_store_in_tmp(tmp_path, monkeypatch):
    """create_app without a store keeps notices in a file: here, the test's own."""
    monkeypatch.setenv("MEDPAY_NOTICE_STORE", str(tmp_path / "default-notices.sqlite3"))


@pytest.fixture
def keys():
    """The center's and our codecs over one appId (no server needed)."""
    return cs.LocalCenter()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryNoticeStore()
    elif request.param == "sqlite":
        s = SQLiteNoticeStore(tmp_path / "notices.sqlite3")
        yield s
        s.close()
    else:
        from medpay_core.notice_store_pg import PostgresNoticeStore

        yield PostgresNoticeStore(request.getfixturevalue("pg_conninfo"))


class Recorder:
    """An on_notice that counts its calls (thread-safe), optionally failing or waiting."""

    def __init__(self, fail_times: int = 0, hold: threading.Event | None = None):
        self.lock = threading.Lock()
        self.calls: list = []
        self.fail_times = fail_times
        self.hold = hold

    def __call__(self, notice, tx=None):
        # tx: the claim's transaction, from a transactional store (PostgreSQL).
        if self.hold is not None:
            self.hold.wait(10)
        with self.lock:
            self.calls.append(notice)
            if len(self.calls) <= self.fail_times:
                raise RuntimeError("database down")


def reply_of(body: bytes) -> dict:
    doc = json.loads(body)
    assert doc["code"] == "0" and set(doc) == {"code", "msg", "data"}
    return doc["data"]


def signed_notice(keys, pay_ord_id="ORD000000000000000001") -> bytes:
    return keys.codec.pack_json(cs.settlement_notice(pay_ord_id))


# -- 6302 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["credentials", "mapping of credentials", "list of codecs"])
def test_the_notice_handler_takes_credentials_as_create_app_does(keys, store, form):
    """Credentials, not only a codec (a Credentials used to be a bare TypeError here)."""
    creds = keys.inst_codec.credentials
    ours = {"credentials": creds, "mapping of credentials": {creds.app_id: creds},
            "list of codecs": [keys.inst_codec]}[form]
    rec = Recorder()
    assert reply_of(handle_settlement_notice(signed_notice(keys), ours, rec, store=store))["success"] is True
    assert len(rec.calls) == 1



def test_a_signed_notice_is_verified_passed_to_on_notice_and_acknowledged(keys, store):
    rec = Recorder()
    reply = handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=store)
    assert reply_of(reply)["success"] is True
    assert len(rec.calls) == 1
    notice = rec.calls[0]
    assert isinstance(notice, models.SettlementNotice)
    assert notice.pay_ord_id == "ORD000000000000000001"
    assert notice.fee_sumamt == Decimal("100.00")


def test_a_duplicate_notice_is_acknowledged_without_calling_on_notice_again(keys, store):
    rec = Recorder()
    for _ in range(3):
        assert reply_of(handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=store))["success"]
    assert len(rec.calls) == 1


def test_different_orders_are_each_processed(keys, store):
    rec = Recorder()
    for i in range(3):
        handle_settlement_notice(signed_notice(keys, f"ORD{i}"), keys.inst_codec, rec, store=store)
    assert [n.pay_ord_id for n in rec.calls] == ["ORD0", "ORD1", "ORD2"]


def test_concurrent_duplicates_in_threads_call_on_notice_exactly_once(keys, store):
    hold = threading.Event()
    rec = Recorder(hold=hold)
    body = signed_notice(keys)
    n = 12
    barrier = threading.Barrier(n)
    replies: list = []

    def deliver():
        barrier.wait(10)
        replies.append(reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store)))

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    # Let the losers answer "busy" while the winner is still inside on_notice.
    for _ in range(1000):
        if len(replies) >= n - 1:
            break
        threading.Event().wait(0.01)
    hold.set()
    for t in threads:
        t.join(10)
    assert len(rec.calls) == 1
    assert len(replies) == n
    assert sum(r["success"] for r in replies) >= 1
    # The center delivers again to the ones that answered false: now all are done.
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"] is True
    assert len(rec.calls) == 1


def _process_worker(db_path, body, app_id, secret, inst_hex, center_pub_hex, log_path, barrier):
    """Runs in a child process: 4 threads deliver the same notice through one store file."""
    import medpay_core as mp
    from medpay_core.callbacks import SQLiteNoticeStore, handle_settlement_notice

    creds = mp.Credentials(app_id, secret, mp.SM2PrivateKey.from_string(inst_hex), center_pub_hex)
    codec = mp.EnvelopeCodec(creds)
    store = SQLiteNoticeStore(db_path)
    lock = threading.Lock()

    def on_notice(notice):
        with lock, open(log_path, "a") as f:
            f.write(f"{notice.pay_ord_id}\n")

    def deliver():
        handle_settlement_notice(body, codec, on_notice, store=store)

    barrier.wait(60)
    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    store.close()


def test_concurrent_duplicates_across_processes_call_on_notice_exactly_once(keys, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    db, log = str(tmp_path / "notices.sqlite3"), str(tmp_path / "calls.log")
    SQLiteNoticeStore(db).close()  # create the schema once
    body = signed_notice(keys)
    barrier = ctx.Barrier(4)
    args = (db, body, keys.app_id, cs.APP_SECRET, keys.inst_key.to_hex(), keys.center_key.public_key().to_hex(), log, barrier)
    procs = [ctx.Process(target=_process_worker, args=args) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    with open(log) as f:
        assert f.read().splitlines() == ["ORD000000000000000001"]


def test_an_exception_in_on_notice_answers_false_and_the_redelivery_is_processed(keys, store):
    rec = Recorder(fail_times=1)
    body = signed_notice(keys)
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"] is False
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"] is True
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"] is True
    assert len(rec.calls) == 2


def test_on_notice_returning_false_asks_for_redelivery(keys, store):
    answers = [False, None]
    body = signed_notice(keys)
    assert not reply_of(handle_settlement_notice(body, keys.inst_codec, lambda n, *tx: answers.pop(0), store=store))["success"]
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, lambda n, *tx: answers.pop(0), store=store))["success"]
    assert answers == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_claim_left_by_an_ended_worker_thread_is_taken_over_at_the_next_delivery(keys, kind, tmp_path):
    # A worker thread claimed the notice and ended without completing or releasing it.
    # (A PostgreSQL claim is a session: tests/test_notice_stores.py kills one.)
    store = MemoryNoticeStore() if kind == "memory" else SQLiteNoticeStore(tmp_path / "n.sqlite3")
    key = NoticeKey(keys.app_id, "ORD000000000000000001", "02")
    t = threading.Thread(target=store.claim, args=(key,))
    t.start()
    t.join()
    rec = Recorder()
    assert reply_of(handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=store))["success"]
    assert len(rec.calls) == 1


def test_an_unsigned_notice_is_refused_by_default(keys, store):
    rec = Recorder()
    body = json.dumps(cs.settlement_notice(), default=str).encode()
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"] is False
    assert rec.calls == []


@pytest.mark.parametrize("shape", ["top-level", "data-object", "data-string", "encrypted"])
def test_a_plain_notice_is_accepted_when_allowed(keys, store, shape):
    fields = cs.settlement_notice()
    text = json.dumps(fields, default=str, ensure_ascii=False).replace('"100.00"', "100.00")
    if shape == "top-level":
        body = text.encode()
    elif shape == "data-object":
        body = ('{"appId":"%s","data":%s}' % (keys.app_id, text)).encode()
    elif shape == "data-string":
        body = json.dumps({"appId": keys.app_id, "data": text}, ensure_ascii=False).encode()
    else:
        body = json.dumps({"appId": keys.app_id, "encData": keys.codec.encrypt_data(fields)}).encode()
    rec = Recorder()
    reply = handle_settlement_notice(body, keys.inst_codec, rec, store=store, allow_plain=True)
    assert reply_of(reply)["success"] is True
    assert rec.calls[0].fee_sumamt == Decimal("100.00")


def test_a_notice_signed_with_another_key_is_refused_even_when_plain_is_allowed(keys, store):
    rec = Recorder()
    body = keys.impostor.pack_json(cs.settlement_notice())
    assert not reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store, allow_plain=True))["success"]
    assert rec.calls == []


def test_a_notice_with_invalid_fields_is_refused(keys, store):
    fields = cs.settlement_notice()
    del fields["payOrdId"]
    rec = Recorder()
    assert not reply_of(handle_settlement_notice(keys.codec.pack_json(fields), keys.inst_codec, rec, store=store))["success"]
    assert rec.calls == []


@pytest.mark.parametrize("call_type", ["01", "03", "2", None])
def test_a_notice_whose_call_type_is_not_02_is_refused_with_the_reason(keys, store, call_type):
    # 6302 is "固定传 02，目前仅支付成功回调": anything else is not a payment to record.
    fields = cs.settlement_notice()
    if call_type is None:
        del fields["callType"]
    else:
        fields["callType"] = call_type
    rec = Recorder()
    data = reply_of(handle_settlement_notice(keys.codec.pack_json(fields), keys.inst_codec, rec, store=store))
    assert data["success"] is False and "callType" in data["message"] and "02" in data["message"]
    assert rec.calls == []


def test_a_notice_with_ext_data_as_json_text_is_read(keys, store):
    fields = {**cs.settlement_notice(), "extData": '{"psnPaySn":"PS1"}'}
    rec = Recorder()
    assert reply_of(handle_settlement_notice(keys.codec.pack_json(fields), keys.inst_codec, rec, store=store))["success"]
    assert rec.calls[0].ext_data.psn_pay_sn == "PS1"


def test_the_reply_is_nested_by_default_and_flat_when_asked():
    assert json.loads(settlement_reply(True, "ok")) == {"code": "0", "msg": "接口调用成功",
                                                        "data": {"success": True, "message": "ok"}}
    assert settlement_reply(True, "ok", reply_form="flat") == b'{"success":true,"message":"ok"}'
    assert json.loads(settlement_reply(False, "重发", reply_form="flat")) == {"success": False, "message": "重发"}
    with pytest.raises(ValueError):
        settlement_reply(True, "ok", reply_form="wrapped")


def test_handle_settlement_notice_answers_in_the_flat_form_when_asked(keys, store):
    rec = Recorder(fail_times=1)
    body = signed_notice(keys)
    first = json.loads(handle_settlement_notice(body, keys.inst_codec, rec, store=store, reply_form="flat"))
    assert set(first) == {"success", "message"} and first["success"] is False  # on_notice failed: deliver again
    second = json.loads(handle_settlement_notice(body, keys.inst_codec, rec, store=store, reply_form="flat"))
    assert second["success"] is True and len(rec.calls) == 2
    refused = json.loads(handle_settlement_notice(b"not json", keys.inst_codec, rec, store=store, reply_form="flat"))
    assert refused["success"] is False and set(refused) == {"success", "message"}
    with pytest.raises(ValueError):
        handle_settlement_notice(body, keys.inst_codec, rec, store=store, reply_form="wrapped")


@pytest.mark.parametrize("body", [b"", b"not json", b"[1,2]", b'{"signData":"AAAA","appId":"X"}'])
def test_a_malformed_notice_is_refused(keys, store, body):
    rec = Recorder()
    assert not reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"]
    assert rec.calls == []


def test_notices_pick_the_codec_of_their_app_id(keys, store):
    other = cs.LocalCenter(app_id="OTHERAPP000000000000000000000001")
    codecs = {keys.app_id: keys.inst_codec, other.app_id: other.inst_codec}
    rec = Recorder()
    assert reply_of(handle_settlement_notice(signed_notice(other, "ORDX"), codecs, rec, store=store))["success"]
    assert rec.calls[0].pay_ord_id == "ORDX"
    stranger = cs.LocalCenter(app_id="STRANGER00000000000000000000001")
    assert not reply_of(handle_settlement_notice(signed_notice(stranger), codecs, rec, store=store))["success"]


def test_sqlite_store_refuses_an_in_memory_database():
    with pytest.raises(ValueError):
        SQLiteNoticeStore(":memory:")


# -- 6204 ---------------------------------------------------------------------------------


def redirect_query(keys, **extra):
    q = {"mpcAppId": keys.app_id, "encData": keys.codec.encrypt_data(cs.order_sync()), "chnlType": "WX"}
    q.update(extra)
    return q


def test_order_sync_is_decrypted_with_the_credentials_of_mpc_app_id(keys):
    other = cs.LocalCenter(app_id="OTHERAPP000000000000000000000001")
    by_app = {other.app_id: other.inst_credentials, keys.app_id: keys.inst_credentials}
    notice = decode_order_sync(redirect_query(keys), by_app)
    assert isinstance(notice, models.OrderSyncNotice)
    assert notice.pay_ord_id == "ORD000000000000000001" and notice.own_pay_amt == Decimal("20.00")
    assert decode_order_sync(redirect_query(keys), keys.inst_codec).med_org_ord == "MO0001"


def test_order_sync_for_an_unknown_app_id_raises_a_typed_error(keys):
    with pytest.raises(UnknownAppIdError) as ei:
        decode_order_sync(redirect_query(keys, mpcAppId="NOPE"), {keys.app_id: keys.inst_credentials})
    assert ei.value.app_id == "NOPE"
    assert isinstance(ei.value, mp.EnvelopeError)


def test_order_sync_with_missing_or_damaged_enc_data_is_refused(keys):
    with pytest.raises(mp.EnvelopeError):
        decode_order_sync({"mpcAppId": keys.app_id}, keys.inst_credentials)
    with pytest.raises(mp.DecryptError):
        decode_order_sync(redirect_query(keys, encData="ABCD"), keys.inst_credentials)


# -- the ASGI app over a real uvicorn server ------------------------------------------------


@pytest.fixture
def served(keys, tmp_path):
    rec = Recorder()
    store = SQLiteNoticeStore(tmp_path / "n.sqlite3")
    app = create_app(keys.inst_codec, rec, store=store)
    with ThreadedASGIServer(app) as srv:
        yield srv, rec
    store.close()


def test_the_asgi_app_answers_a_notice_once_and_acknowledges_its_duplicate(keys, served):
    srv, rec = served
    body = signed_notice(keys)
    with httpx.Client(base_url=srv.url) as http:
        first = http.post("/medpay/notify", content=body)
        second = http.post("/medpay/notify", content=body)
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/json")
    assert reply_of(first.content)["success"] and reply_of(second.content)["success"]
    assert len(rec.calls) == 1


def test_the_asgi_app_refuses_a_forged_notice(keys, served):
    srv, rec = served
    with httpx.Client(base_url=srv.url) as http:
        r = http.post("/medpay/notify", content=keys.impostor.pack_json(cs.settlement_notice()))
    assert reply_of(r.content)["success"] is False and rec.calls == []


def test_the_asgi_return_page_shows_the_order(keys, served):
    srv, _ = served
    with httpx.Client(base_url=srv.url) as http:
        r = http.get("/medpay/return", params=redirect_query(keys))
        bad = http.get("/medpay/return", params=redirect_query(keys, encData="00"))
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "ORD000000000000000001" in r.text and "100.00" in r.text and "WX" in r.text
    assert r.headers["referrer-policy"] == "no-referrer"
    assert bad.status_code == 400 and "ORD" not in bad.text


def test_the_asgi_app_takes_async_callbacks_and_on_order_sync_can_redirect(keys):
    seen = []

    async def on_notice(notice):
        seen.append(notice.pay_ord_id)

    async def on_order_sync(notice, query):
        return RedirectResponse(f"https://pay.example/{query['chnlType']}/{notice.pay_ord_id}", status_code=303)

    app = create_app([keys.inst_codec], on_notice, on_order_sync=on_order_sync,
                     notice_path="/n", return_path="/r")
    with ThreadedASGIServer(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.post("/n", content=signed_notice(keys))
        assert reply_of(r.content)["success"] and seen == ["ORD000000000000000001"]
        r = client.get("/r", params=redirect_query(keys))
        assert r.status_code == 303 and r.headers["location"] == "https://pay.example/WX/ORD000000000000000001"
        # The spec's page may also POST the three parameters as a form.
        r = client.post("/r", data=redirect_query(keys))
        assert r.status_code == 303


def test_the_asgi_app_mounts_in_another_starlette_app(keys):
    rec = Recorder()
    outer = Starlette(routes=[Mount("/pay", app=create_app(keys.inst_codec, rec))])
    with ThreadedASGIServer(outer) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.post("/pay/medpay/notify", content=signed_notice(keys))
    assert reply_of(r.content)["success"] and len(rec.calls) == 1


def test_the_asgi_app_replies_in_the_form_it_was_given(keys):
    with pytest.raises(ValueError):
        create_app(keys.inst_codec, Recorder(), reply_form="wrapped")
    rec = Recorder()
    app = create_app(keys.inst_codec, rec, reply_form="flat")
    with ThreadedASGIServer(app) as srv, httpx.Client(base_url=srv.url) as client:
        r = client.post("/medpay/notify", content=signed_notice(keys))
    assert r.json() == {"success": True, "message": "院内处理回调成功"} and len(rec.calls) == 1


def test_a_failing_store_answers_false_so_the_center_delivers_again(keys):
    class BrokenStore(MemoryNoticeStore):
        def claim(self, key):
            raise OSError("disk full")

    rec = Recorder()
    reply = handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=BrokenStore())
    assert reply_of(reply)["success"] is False and rec.calls == []


def test_the_sqlite_store_keeps_processed_notices_across_restarts(keys, tmp_path):
    path = tmp_path / "n.sqlite3"
    rec = Recorder()
    first = SQLiteNoticeStore(path)
    handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=first)
    first.close()
    again = SQLiteNoticeStore(path)
    assert reply_of(handle_settlement_notice(signed_notice(keys), keys.inst_codec, rec, store=again))["success"]
    assert len(rec.calls) == 1
    again.close()


# -- bodies the stdlib json module misreads or crashes on -------------------------------------


def _hostile_notices(keys) -> dict[str, bytes]:
    plain = json.dumps(cs.settlement_notice(), default=str, ensure_ascii=False).encode()
    return {
        **hostile_bodies(keys.app_id, signed_notice(keys)),
        # A plain notice (the table-20 fields alone) whose payOrdId is given twice: stdlib
        # json would pass on the second and process a notice nobody signed for.
        "duplicate key, plain": b'{"payOrdId":"ORD-OTHER",' + plain[1:],
        "NaN, plain": plain[:-1] + b',"deposit":NaN}',
    }


@pytest.mark.parametrize("kind", ["duplicate key", "NaN", "10,000-deep nesting", "duplicate key, plain",
                                  "NaN, plain"])
@pytest.mark.parametrize("allow_plain", [False, True])
def test_a_hostile_notice_is_refused_as_malformed(keys, store, kind, allow_plain):
    rec = Recorder()
    reply = handle_settlement_notice(_hostile_notices(keys)[kind], keys.inst_codec, rec, store=store,
                                     allow_plain=allow_plain)
    assert reply_of(reply) == {"success": False, "message": "报文格式错误"}
    assert rec.calls == []


def test_a_hostile_notice_over_http_gets_the_refusal_and_the_app_serves_on(keys, served):
    srv, rec = served
    with httpx.Client(base_url=srv.url) as http:
        for body in _hostile_notices(keys).values():
            r = http.post("/medpay/notify", content=body)
            assert r.status_code == 200 and reply_of(r.content)["success"] is False
        assert reply_of(http.post("/medpay/notify", content=signed_notice(keys)).content)["success"]
    assert len(rec.calls) == 1


def test_read_json_object_reads_with_the_native_parser():
    assert read_json_object(b' {"a": 12.30, "b": [1, {"c": null}]}') == {"a": Decimal("12.30"), "b": [1, {"c": None}]}
    assert read_json_object('{"名":"张三"}') == {"名": "张三"}
    for bad, says in [(b'{"a":1,"a":2}', "duplicate"), (b'{"a":NaN}', "at byte 5"),
                      (b'{"a":' + b"[" * 64 + b"]" * 64 + b"}", "deeper than 64 levels"),
                      (b"[1]", "not a JSON object"), (b'"{}"', "not a JSON object"),
                      (b'{"a":1},"b":2', "invalid JSON"), (b'{"a":1} x', "invalid JSON"),
                      (b'{"a":"\xff"}', "UTF-8")]:
        with pytest.raises(mp.EnvelopeError, match=says):
            read_json_object(bad)
    # As deep as an envelope the codec accepts: 63 levels inside the object.
    assert read_json_object(b'{"a":' + b"[" * 63 + b"]" * 63 + b"}")


# -- issue 12: crashes, restarts, replays, other institutions ----------------------------------

_SERVER = r"""
import os, sys
import uvicorn
import medpay_core as mp
from medpay_core.asgi import create_app

creds = mp.Credentials(os.environ["T_APP_ID"], os.environ["T_SECRET"],
                       mp.SM2PrivateKey.from_string(os.environ["T_INST"]), os.environ["T_CENTER_PUB"])
effects = os.environ["T_EFFECTS"]

def on_notice(notice):
    if os.environ.get("T_DIE"):
        os.kill(os.getpid(), 9)        # the server crashes inside on_notice
    with open(effects, "a") as f:
        f.write(notice.pay_ord_id + "\n")

# The store the README shows, or none given: the default one.
store = mp.SQLiteNoticeStore(os.environ["T_STORE"]) if os.environ["T_STORE"] else None
app = create_app(mp.EnvelopeCodec(creds), on_notice, store=store)
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["T_PORT"]), log_level="warning")
"""


def _start_server(keys, tmp_path, port, *, die, store="", ids=None):
    """The app in a uvicorn process; ``ids``: (appId, secret, our key, the center's
    public key) as text, else ``keys``'."""
    import os
    import subprocess
    import sys

    app_id, secret, inst, center_pub = ids or (keys.app_id, cs.APP_SECRET, keys.inst_key.to_hex(),
                                               keys.center_key.public_key().to_hex())
    env = {**os.environ, "T_APP_ID": app_id, "T_SECRET": secret, "T_INST": inst,
           "T_CENTER_PUB": center_pub, "T_EFFECTS": str(tmp_path / "effects"),
           "T_PORT": str(port), "T_DIE": "1" if die else "", "T_STORE": store}
    return subprocess.Popen([sys.executable, "-c", _SERVER], env=env)


def _post_until_answered(url, body, proc):
    """POST once the server listens (bounded by tries); None if the server died on it."""
    from sandbox_support import wait_until

    wait_until(lambda: proc.poll() is not None or _listening(url))
    try:
        return httpx.post(url, content=body, timeout=30)
    except httpx.TransportError:
        return None


def _listening(url):
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("store", ["sqlite", "default"])
def test_a_server_killed_inside_on_notice_loses_nothing_under_the_defaults(keys, tmp_path, store):
    """F5: the server dies (SIGKILL) inside on_notice; the center's next delivery, to the
    restarted server, is processed (not "busy" for a lease longer than the center
    retries), within the sandbox's default retry policy."""
    from medpay_core.sandbox.config import NotifyPolicy
    from sandbox_support import free_port

    policy = NotifyPolicy()  # the sandbox's defaults: 8 attempts, 1 s doubling to 300 s
    body = signed_notice(keys)
    attempts, acked = 0, False
    for die in (True, False):  # first the crashing server, then its restart
        port = free_port()
        proc = _start_server(keys, tmp_path, port, die=die,
                             store=str(tmp_path / "n.sqlite3") if store == "sqlite" else "")
        try:
            r = _post_until_answered(f"http://127.0.0.1:{port}/medpay/notify", body, proc)
            attempts += 1
            if die:
                assert r is None and proc.wait(60) == -9
            else:
                assert r is not None and reply_of(r.content) == {"success": True, "message": "院内处理回调成功"}
                acked = True
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(60)
    assert acked and attempts <= policy.max_attempts
    assert (tmp_path / "effects").read_text().splitlines() == ["ORD000000000000000001"]


@pytest.mark.parametrize("store", ["sqlite", "default"])
def test_the_sandbox_notifier_with_its_default_policy_gets_a_crashed_notice_processed(tmp_path, store):
    """F5 end to end: the sandbox (default policy: 8 attempts, 1 s doubling) notifies an
    app with the default store; the app is SIGKILLed inside on_notice and restarted on
    the same port; the notifier's next attempt is processed and the notice DELIVERED."""
    from medpay_core.client import MedpayClient
    from medpay_core.sandbox import SandboxServer
    from medpay_core.sandbox.config import NotifyPolicy
    from medpay_core.sandbox.demo import sample_fee_upload
    from sandbox_support import NoticeSink, client_credentials, free_port, make_config, wait_until

    sink, port = NoticeSink(), free_port()
    raw = make_config(sink, fast=False)
    assert raw["notify"] == NotifyPolicy().to_config()  # the sandbox's defaults
    assert (raw["notify"]["maxAttempts"], raw["notify"]["baseDelay"]) == (8, 1.0)
    raw["institutions"][0]["notifyUrl"] = f"http://127.0.0.1:{port}/medpay/notify"
    c = raw["client"][0]
    ids = (c["appId"], c["appSecret"], c["privateKey"], c["peerPublicKey"])
    path = str(tmp_path / "n.sqlite3") if store == "sqlite" else ""  # the README's store, or none
    proc = _start_server(None, tmp_path, port, die=True, ids=ids, store=path)
    try:
        assert wait_until(lambda: proc.poll() is not None or _listening(f"http://127.0.0.1:{port}/"))
        creds = client_credentials(raw)
        with SandboxServer(raw) as sb, MedpayClient(sb.url, creds, timeout=10, retries=0) as client:
            up = sample_fee_upload("MOCRASH000000001")
            order = client.upload_fees(up)
            client.pay_order({"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                              "orgCodg": up["orgCodg"], "orgBizSer": "PAY1", "chrgBchno": up["chrgBchno"],
                              "feeType": up["feeType"], "mdtrtId": "MD0001"})
            assert proc.wait(60) == -9  # the first delivery killed the server inside on_notice
            proc = _start_server(None, tmp_path, port, die=False, ids=ids, store=path)
            state = wait_until(lambda: (s := sb.sandbox.order_state(order.pay_ord_id))["notice"]["status"]
                               in ("DELIVERED", "FAILED") and s, tries=6000)
        assert state["notice"]["status"] == "DELIVERED"
        assert 2 <= state["notice"]["attempts"] <= NotifyPolicy().max_attempts
        assert (tmp_path / "effects").read_text().splitlines() == [order.pay_ord_id]
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(60)
        sink.close()


def test_a_restarted_app_without_a_store_still_knows_what_it_processed(keys):
    """F6: create_app's default store is kept across restarts (a file), so a redelivered
    old notice is acknowledged without processing it again."""
    rec = Recorder()
    body = signed_notice(keys)
    for _ in range(2):  # the app, then the same app after a restart
        with ThreadedASGIServer(create_app(keys.inst_codec, rec)) as srv:
            assert reply_of(httpx.post(srv.url + "/medpay/notify", content=body).content)["success"]
    assert len(rec.calls) == 1


def test_handle_settlement_notice_requires_a_store(keys):
    with pytest.raises(TypeError):
        handle_settlement_notice(signed_notice(keys), keys.inst_codec, Recorder())


def test_a_purged_notice_replayed_is_not_processed_again(keys, tmp_path):
    """F6: purge forgets old notices but keeps what refuses their replay."""
    store = SQLiteNoticeStore(tmp_path / "n.sqlite3")
    rec = Recorder()
    body = signed_notice(keys)  # traceTime 2024-01-02 10:11:12
    assert reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))["success"]
    assert store.purge("2025-01-01 00:00:00") == 1
    again = reply_of(handle_settlement_notice(body, keys.inst_codec, rec, store=store))
    assert again["success"] is False and len(rec.calls) == 1
    store.close()


def test_a_center_signed_6301_answer_is_not_taken_for_a_6302_notice(tmp_path):
    """F6: the sandbox's real, signed 6301 answer of a paid order carries every table-20
    field with callType 02; posted to notifyUrl it must be refused."""
    from medpay_core.client import MedpayClient
    from medpay_core.sandbox import SandboxServer
    from medpay_core.sandbox.demo import query_of, sample_fee_upload
    from sandbox_support import NoticeSink, client_credentials, make_config

    sink = NoticeSink()
    try:
        raw = make_config(sink)
        creds = client_credentials(raw)
        codec = mp.EnvelopeCodec(creds)
        with SandboxServer(raw) as sb, MedpayClient(sb.url, creds, timeout=10, retries=0) as client:
            up = sample_fee_upload("MO6301ANSWER0001")
            order = client.upload_fees(up)
            client.pay_order({"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                              "orgCodg": up["orgCodg"], "orgBizSer": "PAY1", "chrgBchno": up["chrgBchno"],
                              "feeType": up["feeType"], "mdtrtId": "MD0001"})
            answer = httpx.post(sb.url + "/org/local/api/hos/query_order_info",
                                content=codec.pack_json(query_of(up, order.pay_ord_id, order.pay_token))).content
        opened = codec.unpack(answer)
        assert opened.signed and opened.data["callType"] == "02"  # it looks like a notice
        models.SettlementNotice.from_wire(opened.data)  # and the model alone would take it
        rec = Recorder()
        store = MemoryNoticeStore()
        data = reply_of(handle_settlement_notice(answer, codec, rec, store=store))
        assert data == {"success": False, "message": "报文不是结算通知"} and rec.calls == []
        # Its data alone, re-wrapped as a plain notice, is refused too (ordStas is 6301's).
        plain = json.dumps(opened.data, default=str).encode()
        data = reply_of(handle_settlement_notice(plain, codec, rec, store=store, allow_plain=True))
        assert data["success"] is False and rec.calls == []
    finally:
        sink.close()


def test_two_institutions_with_the_same_pay_ord_id_are_each_processed(keys, store):
    """F14: the key is appId + payOrdId + callType."""
    other = cs.LocalCenter(app_id="APP2000000000000")
    codecs = {keys.app_id: keys.inst_codec, other.app_id: other.inst_codec}
    rec = Recorder()
    for center in (keys, other, keys, other):
        assert reply_of(handle_settlement_notice(signed_notice(center, "ORDSAME"), codecs, rec, store=store))["success"]
    assert len(rec.calls) == 2


def test_postgres_on_notice_writes_in_the_claims_transaction(keys, pg_conninfo):
    """The inbox pattern: on_notice's update and the done mark commit together; when
    on_notice fails after writing, its write is rolled back with the claim."""
    import psycopg
    from medpay_core.notice_store_pg import PostgresNoticeStore

    store = PostgresNoticeStore(pg_conninfo)
    with psycopg.connect(pg_conninfo, autocommit=True) as c:
        c.execute("CREATE TABLE paid (pay_ord_id text PRIMARY KEY, amount numeric)")
    fail = [True]

    def record(notice, conn):
        conn.execute("INSERT INTO paid VALUES (%s, %s)", (notice.pay_ord_id, notice.fee_sumamt))
        if fail.pop(0) if fail else False:
            raise RuntimeError("the ledger refused")

    body = signed_notice(keys)
    assert not reply_of(handle_settlement_notice(body, keys.inst_codec, record, store=store))["success"]
    for _ in range(2):
        assert reply_of(handle_settlement_notice(body, keys.inst_codec, record, store=store))["success"]
    with psycopg.connect(pg_conninfo) as c:
        assert c.execute("SELECT pay_ord_id, amount FROM paid").fetchall() == [("ORD000000000000000001", Decimal("100.00"))]


@pytest.mark.parametrize("path, method", [("/medpay/return", "POST"), ("/medpay/notify", "POST")])
def test_a_huge_body_is_refused_as_it_streams_in(keys, path, method):
    # Issue 12, F11: POST /medpay/return buffered the whole body before cutting it at 1 MiB
    # (a 400 MB upload peaked at 838 MiB). Memory is what is checked, not time.
    import tracemalloc

    def chunks():
        for _ in range(64):  # 64 MiB, chunked: no Content-Length to refuse it by
            yield b"a" * (1 << 20)

    with ThreadedASGIServer(create_app(keys.inst_codec, Recorder())) as srv:
        tracemalloc.start()
        try:
            with httpx.Client(base_url=srv.url, timeout=60) as client:
                try:
                    status = client.request(method, path, content=chunks()).status_code
                except httpx.TransportError:
                    status = 413  # the server may close the connection while we still send
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert status == 413
    assert peak < 24 * 1024 * 1024
