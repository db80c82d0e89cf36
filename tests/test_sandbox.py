"""The sandbox served in-process: the flows, every refusal with its code, idempotency
and concurrent requests."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
import starlette  # noqa: F401 - the "server" extra, installed with the test extras
import uvicorn  # noqa: F401

import medpay_core as mp
from medpay_core.client import MedpayClient
from medpay_core.sandbox import SandboxServer, codes
from medpay_core.sandbox.demo import cashier_form, query_of, sample_fee_upload, sample_person
from sandbox_support import NoticeSink, client_credentials, make_config, wait_until
from sandbox_support import sb, sink  # noqa: F401 (fixtures)

D = Decimal
_seq = iter(range(1, 10**6))


def new_upload(**kw: Any) -> dict[str, Any]:
    return sample_fee_upload(f"MO{time.strftime('%Y%m%d%H%M%S')}{next(_seq):06d}", **kw)


@pytest.fixture
def raw(sink):
    return make_config(sink, institutions=2)


@pytest.fixture
def client(sb, raw):
    with MedpayClient(sb.url, client_credentials(raw), timeout=10, retries=0) as c:
        yield c


@pytest.fixture
def other_client(sb, raw):
    """The second institution's client."""
    with MedpayClient(sb.url, client_credentials(raw, 1), timeout=10, retries=0) as c:
        yield c


def pay_request(upload: dict[str, Any], order: Any, *, auth: str = "AUTH0001", biz: str = "PAY1", **kw: Any) -> dict:
    return {"payAuthNo": auth, "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
            "orgCodg": upload["orgCodg"], "orgBizSer": biz, "chrgBchno": upload["chrgBchno"],
            "feeType": upload["feeType"], "mdtrtId": "MD0001", **kw}


def refund_request(order_id: str, sn: str, *, cash: str = "0.00", fund: str = "0.00", acct: str = "0.00",
                   refd_type: str = "CASH", total: Any = None) -> dict:
    tot = D(cash) + D(fund) + D(acct) if total is None else D(total)
    return {"payOrdId": order_id, "appRefdSn": sn, "appRefdTime": "20261125120000", "totlRefdAmt": tot,
            "cashRefdAmt": D(cash), "fundRefdAmt": D(fund), "psnAcctRefdAmt": D(acct), "refdType": refd_type,
            "payAuthNo": "AUTH0001"}


def refused(fn: Any, *args: Any) -> mp.BusinessError:
    with pytest.raises(mp.BusinessError) as ei:
        fn(*args)
    return ei.value


def uploaded_and_paid(client: MedpayClient, **kw: Any) -> tuple[dict, Any, Any]:
    up = new_upload(**kw)
    order = client.upload_fees(up)
    paid = client.pay_order(pay_request(up, order))
    return up, order, paid


# ----------------------------------------------------------------------------- flows


def test_demo_runs_end_to_end():
    from medpay_core.sandbox.demo import run_demo

    lines: list[str] = []
    assert run_demo(out=lines.append) == 0
    text = "\n".join(lines)
    for needle in ("6201 uldFeeInfo", "ordStas 0 (已保存)", "6302 settlement notice", "6204 return page",
                   "ordStas 6 (结算完成)", "refStatus SUCC", "ordStas 10 (仅自费部分退款)", "6401 revoke_order",
                   "code 4002", "ordStas 12 (已撤销)", "== done =="):
        assert needle in text, needle


def test_upload_pay_query_refund_notice(client, sb, sink, raw):
    up = new_upload()
    order = client.upload_fees(up)
    assert order.pay_ord_id and order.pay_token and order.cashier_url.startswith(sb.url + "/sandbox/cashier?")
    q = query_of(up, order.pay_ord_id, order.pay_token)
    before = client.query_order(q)
    assert before.ord_stas == "0" and before.fee_sumamt == up["medfeeSumamt"]

    paid = client.pay_order(pay_request(up, order))
    assert paid.ord_stas == "6"
    assert paid.fund_pay + paid.psn_acct_pay + paid.oth_fee_amt + paid.own_pay_amt == up["medfeeSumamt"]
    # the default ratios: 60 % fund, 20 % account, the rest cash
    assert paid.fund_pay == (up["medfeeSumamt"] * D("0.6")).quantize(D("0.01"))

    assert sink.wait_acked(1) == [order.pay_ord_id]
    notice = sink.posts[-1]
    assert notice["signed"] and notice["data"]["callType"] == "02"
    assert notice["data"]["ownpayAmt"] == paid.own_pay_amt and notice["data"]["medOrgOrd"] == up["medOrgOrd"]
    mp.models.SettlementNotice.from_wire(notice["data"])

    final = client.query_order(q)
    assert final.ord_stas == "6" and final.call_type == "02" and final.own_pay_amt == paid.own_pay_amt
    state = wait_until(lambda: (s := sb.sandbox.order_state(order.pay_ord_id))["notice"]["status"] == "DELIVERED" and s)
    assert state["notice"]["attempts"] == 1

    part = client.refund(refund_request(order.pay_ord_id, "RF1", cash="1.00"))
    assert part.ref_status == "SUCC" and part.refd_sn and part.hi_fefd_sn is None
    assert client.query_order(q).ord_stas == "10"
    hi = client.refund(refund_request(order.pay_ord_id, "RF2", fund=str(paid.fund_pay), acct=str(paid.psn_acct_pay),
                                      refd_type="HI"))
    assert hi.hi_fefd_sn and hi.hi_trns_date and hi.hi_trns_time
    assert client.query_order(q).ord_stas == "11"
    rest = paid.own_pay_amt - D("1.00")
    client.refund(refund_request(order.pay_ord_id, "RF3", cash=str(rest)))
    assert client.query_order(q).ord_stas == "7"
    assert sb.sandbox.order_state(order.pay_ord_id)["refunded"] == {
        "fund": str(paid.fund_pay), "acct": str(paid.psn_acct_pay), "cash": str(paid.own_pay_amt)}


def test_refunds_of_one_side_in_full_report_8_and_9(client):
    up, order, paid = uploaded_and_paid(client)
    client.refund(refund_request(order.pay_ord_id, "RF8", fund=str(paid.fund_pay), acct=str(paid.psn_acct_pay),
                                 refd_type="HI"))
    assert client.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "8"
    up, order, paid = uploaded_and_paid(client)
    client.refund(refund_request(order.pay_ord_id, "RF9", cash=str(paid.own_pay_amt)))
    assert client.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "9"


def test_cashier_page_pays_and_redirects_with_6204(client, sb, sink, raw):
    creds = client_credentials(raw)
    up = new_upload()
    order = client.upload_fees(up)
    url = mp.cashier_url(order.cashier_url, creds, "AUTHCASHIER1", deposit="5.00")
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200 and order.pay_ord_id in page.text and "去支付" in page.text
        form = cashier_form(page.text)
        action = form.pop("__action__")
        form["chnlType"] = "ZFB"
        r = browser.post(sb.url + action, data=form)
        assert r.status_code == 303
        loc = r.headers["location"]
        assert loc.startswith(sink.return_url + "?")
        # a double click: the same redirect, nothing paid twice
        r2 = browser.post(sb.url + action, data=form)
        assert r2.status_code == 303
        browser.get(loc)
    q = dict(httpx.URL(loc).params)
    assert q["mpcAppId"] == creds.app_id and q["chnlType"] == "ZFB"
    sync = mp.decode_order_sync(q, creds)
    assert sync.pay_ord_id == order.pay_ord_id and sync.med_org_ord == up["medOrgOrd"]
    assert sync.fee_sumamt == up["medfeeSumamt"]
    assert sync.deposit == D("5.00")
    assert sync.own_pay_amt + sync.psn_acct_pay + sync.fund_pay + sync.oth_fee_amt == up["medfeeSumamt"]
    assert sink.wait_acked(1) == [order.pay_ord_id]
    assert len(sink.acked) == 1
    # now paid: the page says so and 6202 is refused
    assert "已支付" in httpx.get(url).text
    assert refused(client.pay_order, pay_request(up, order)).code == codes.ALREADY_PAID


def test_bank_card_pay_page(client, sb, sink):
    up = new_upload()
    order = client.upload_fees(up)
    bank = client.bank_card_pay({"payAuthNo": "AUTHBANK1", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                                 "orgCodg": up["orgCodg"], "orgBizSer": "BANK1"})
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(bank.med_bank_pay_url)
        assert page.status_code == 200 and "银行卡" in page.text
        form = cashier_form(page.text)
        action = form.pop("__action__")
        form["chnlType"] = "BANK"
        r = browser.post(sb.url + action, data=form)
    assert r.status_code == 303 and "chnlType=BANK" in r.headers["location"]
    assert client.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "6"
    assert refused(client.bank_card_pay, {"payAuthNo": "AUTHBANK1", "payOrdId": order.pay_ord_id,
                                          "payToken": order.pay_token, "orgCodg": up["orgCodg"],
                                          "orgBizSer": "BANK2"}).code == codes.ALREADY_PAID


def test_plain_notice_when_the_institution_chose_it(sink):
    raw = make_config(sink)
    raw["institutions"][0]["plainNotify"] = True
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        up, order, paid = uploaded_and_paid(client)
        sink.wait_acked(1)
    post = sink.posts[-1]
    assert not post["signed"] and post["data"]["payOrdId"] == order.pay_ord_id
    assert post["data"]["fundPay"] == paid.fund_pay and isinstance(post["data"]["fundPay"], Decimal)


def test_notice_retried_until_acknowledged_then_failed_after_max_attempts(sink):
    raw = make_config(sink)
    raw["notify"] = {"maxAttempts": 3, "baseDelay": 0.01, "maxDelay": 0.05, "timeout": 5}
    sink.mode = "fail"
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        up, order, _ = uploaded_and_paid(client)
        q = query_of(up, order.pay_ord_id, order.pay_token)
        st = wait_until(lambda: (n := client.query_order(q).ext_data.model_extra["notice"])["status"] == "FAILED" and n)
        assert st["attempts"] == 3 and "success=False" in st["lastError"]
        assert len(sink.posts) == 3 and sink.acked == []
        # requeued by hand once the institution is fixed
        sink.mode = "ok"
        assert httpx.post(f"{sb.url}/sandbox/notices/{order.pay_ord_id}/retry").json() == {"requeued": True}
        assert sink.wait_acked(1) == [order.pay_ord_id]
        kinds = wait_until(lambda: (k := [e["kind"] for e in sb.sandbox.events()
                                           if e["payOrdId"] == order.pay_ord_id])[-1] == "6302.acknowledged" and k)
        assert kinds.count("6302.retry") == 2 and "6302.failed" in kinds and kinds[-1] == "6302.acknowledged"


def test_notice_flat_replies_are_read_false_is_delivered_again(sink):
    raw = make_config(sink)
    sink.form, sink.mode = "flat", "fail"
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        _, order, _ = uploaded_and_paid(client)
        sink.wait_posts(2)  # {"success":false} in the flat form: posted again
        sink.mode = "ok"
        assert sink.wait_acked(1) == [order.pay_ord_id]
        state = wait_until(lambda: (s := sb.sandbox.order_state(order.pay_ord_id))["notice"]["status"] == "DELIVERED"
                           and s)
    assert state["notice"]["attempts"] >= 3
    assert all(p["data"]["callType"] == "02" for p in sink.posts)


@pytest.mark.parametrize("body,ok", [
    (b'{"code":"0","msg":"ok","data":{"success":true,"message":"done"}}', True),
    (b'{"code":"0","msg":"ok","data":{"success":false,"message":"busy"}}', False),
    (b'{"success":true,"message":"done"}', True),
    (b'{"success":"true","message":"done"}', True),
    (b'{"success":false,"message":"busy"}', False),
    (b'{"code":"0","msg":"ok"}', False),
    (b'{"message":"done"}', False),
])
def test_the_notifier_reads_the_nested_and_the_flat_reply(body, ok):
    from medpay_core.sandbox.notifier import reply_success

    assert reply_success(body)[0] is ok  # not an envelope: no codec needed


def test_notice_http_error_and_unreachable_are_retried(sink):
    raw = make_config(sink)
    sink.mode = "500"
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        _, order, _ = uploaded_and_paid(client)
        sink.wait_posts(2)
        sink.mode = "ok"
        assert sink.wait_acked(1) == [order.pay_ord_id]
        assert "HTTP 500" in json.dumps(sb.sandbox.events())


# ------------------------------------------------------------------------ idempotency


def test_same_upload_twice_is_one_order_and_changed_upload_is_refused(client):
    up = new_upload()
    a = client.upload_fees(up)
    b = client.upload_fees(up)
    assert (a.pay_ord_id, a.pay_token) == (b.pay_ord_id, b.pay_token)
    changed = dict(up, deptName="外科")
    e = refused(client.upload_fees, changed)
    assert e.code == codes.DUPLICATE_KEY and a.pay_ord_id in e.message
    # revoke, then the changed prescription may be uploaded: a new order
    client.revoke_upload(query_of(up, a.pay_ord_id, a.pay_token))
    c = client.upload_fees(changed)
    assert c.pay_ord_id != a.pay_ord_id


def test_a_field_the_spec_does_not_have_is_refused_with_2001(sb, raw):
    # 6201 has no orgBizSer: the model refuses it (the sandbox used to key uploads on it).
    codec = mp.EnvelopeCodec(client_credentials(raw))
    r = httpx.post(sb.url + "/org/local/api/hos/uldFeeInfo", content=codec.pack_json(dict(new_upload(), orgBizSer="B1")))
    msg = codec.unpack(r.content)
    assert msg.code == codes.INVALID_DATA and msg.success is False
    assert [e["field"] for e in msg.data["errors"]] == ["orgBizSer"]


def test_same_refund_twice_is_one_refund(client, sb):
    _, order, paid = uploaded_and_paid(client)
    r1 = client.refund(refund_request(order.pay_ord_id, "RFSAME", cash="2.00"))
    r2 = client.refund(refund_request(order.pay_ord_id, "RFSAME", cash="2.00"))
    assert r1.refd_sn == r2.refd_sn
    assert sb.sandbox.order_state(order.pay_ord_id)["refunded"]["cash"] == "2.00"
    e = refused(client.refund, refund_request(order.pay_ord_id, "RFSAME", cash="3.00"))
    assert e.code == codes.DUPLICATE_KEY


def test_same_payment_retried_gets_the_same_answer(client):
    up = new_upload()
    order = client.upload_fees(up)
    a = client.pay_order(pay_request(up, order, biz="PAYSAME"))
    b = client.pay_order(pay_request(up, order, biz="PAYSAME"))
    assert a.to_wire() == b.to_wire()


# ----------------------------------------------------------------------- concurrency


def _race(n: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        barrier.wait()
        try:
            return fn(i)
        except mp.BusinessError as e:
            return e

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_identical_uploads_make_one_order(sb, raw):
    up = new_upload()

    def go(i: int) -> Any:
        with MedpayClient(sb.url, client_credentials(raw), retries=0) as c:
            return c.upload_fees(up).pay_ord_id

    ids = _race(8, go)
    assert len(set(ids)) == 1 and not any(isinstance(x, Exception) for x in ids)
    n = sb.sandbox.store.read().execute("SELECT COUNT(*) FROM orders WHERE upload_json LIKE ?",
                                         (f'%{up["medOrgOrd"]}%',)).fetchone()[0]
    assert n == 1


def test_concurrent_payments_pay_once(client, sb, raw, sink):
    up = new_upload()
    order = client.upload_fees(up)

    def go(i: int) -> Any:
        with MedpayClient(sb.url, client_credentials(raw), retries=0) as c:
            return c.pay_order(pay_request(up, order, biz=f"PAYRACE{i}"))

    results = _race(8, go)
    ok = [r for r in results if not isinstance(r, Exception)]
    errs = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 1 and all(e.code == codes.ALREADY_PAID for e in errs)
    sink.wait_acked(1)
    n = sb.sandbox.store.read().execute("SELECT COUNT(*) FROM notices WHERE pay_ord_id = ?",
                                         (order.pay_ord_id,)).fetchone()[0]
    assert n == 1


def test_concurrent_refunds_never_exceed_the_paid_cash(client, sb, raw):
    up, order, paid = uploaded_and_paid(client)
    each = D("5.00")
    fits = int(paid.own_pay_amt // each)

    def go(i: int) -> Any:
        with MedpayClient(sb.url, client_credentials(raw), retries=0) as c:
            return c.refund(refund_request(order.pay_ord_id, f"RFRACE{i}", cash=str(each)))

    results = _race(fits + 3, go)
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == fits
    assert all(r.code == codes.OVER_REFUND for r in results if isinstance(r, Exception))
    assert D(sb.sandbox.order_state(order.pay_ord_id)["refunded"]["cash"]) == each * fits

    same = _race(6, lambda i: MedpayClient(sb.url, client_credentials(raw), retries=0).refund(
        refund_request(order.pay_ord_id, "RFRACE-ONE", cash="0.01")))
    assert len({r.refd_sn for r in same}) == 1


# --------------------------------------------------------------------- every refusal


def test_protocol_refusals(sb, raw, client):
    url = sb.url + "/org/local/api/hos/"
    creds = client_credentials(raw)
    codec = mp.EnvelopeCodec(creds)
    # 1001: not JSON (unsigned: no appId to sign for)
    r = httpx.post(url + "query_order_info", content=b"not json")
    assert r.json()["code"] == codes.BAD_ENVELOPE and "signData" not in r.json()
    # 1002: unknown appId: unsigned, there is no secret to sign with (the client takes it
    # as an unsigned refusal, never as the center's signed word)
    stranger = mp.Credentials("UNKNOWNAPPID00000000000000000000", "S" * 32, mp.SM2PrivateKey.generate(),
                              creds.peer_public_key)
    r = httpx.post(url + "query_order_info", content=mp.EnvelopeCodec(stranger).pack_json({"payOrdId": "X"}))
    assert r.json() == {"code": codes.UNKNOWN_APP, "message": f"unknown appId {stranger.app_id!r}", "success": False}
    # 1003: signed with another key: a signed refusal the institution can verify
    forged = mp.EnvelopeCodec(mp.Credentials(creds.app_id, creds.app_secret, mp.SM2PrivateKey.generate(),
                                             creds.peer_public_key))
    r = httpx.post(url + "query_order_info", content=forged.pack_json({"payOrdId": "X"}))
    msg = codec.unpack(r.content)
    assert msg.code == codes.BAD_SIGNATURE and msg.success is False and "doctor" in msg.message
    # 1004: encData that does not decrypt (the signature is checked over the plaintext,
    # so the center cannot even verify it)
    env = json.loads(codec.pack_json({"payOrdId": "X"}))
    env["encData"] = "00" * 16
    msg = codec.unpack(httpx.post(url + "query_order_info", json=env).content)
    assert msg.code in (codes.BAD_ENCRYPTION, codes.BAD_SIGNATURE)
    # 1005: unknown endpoint
    r = httpx.post(url + "no_such_thing", content=codec.pack_json({}))
    assert r.status_code == 404 and r.json()["code"] == codes.UNKNOWN_ENDPOINT


def test_validation_refusal_lists_the_fields(sb, raw):
    codec = mp.EnvelopeCodec(client_credentials(raw))
    missing = {k: v for k, v in new_upload().items() if k not in ("deptName", "psnNo")}
    r = httpx.post(sb.url + "/org/local/api/hos/uldFeeInfo", content=codec.pack_json(missing))
    msg = codec.unpack(r.content)
    assert msg.code == codes.INVALID_DATA and "deptName" in msg.message
    assert {(e["field"], e["rule"]) for e in msg.data["errors"]} == {("deptName", "required"), ("psnNo", "required")}
    # The notes' rules are the model's too: the fee lines must add up to medfeeSumamt.
    r = httpx.post(sb.url + "/org/local/api/hos/uldFeeInfo", content=codec.pack_json(dict(new_upload(),
                                                                                          medfeeSumamt=D("1.00"))))
    msg = codec.unpack(r.content)
    assert msg.code == codes.INVALID_DATA
    assert [(e["field"], e["rule"]) for e in msg.data["errors"]] == [("medfeeSumamt", "sum_mismatch")]


def test_order_refusals(client, other_client, raw):
    up = new_upload()
    order = client.upload_fees(up)
    q = query_of(up, order.pay_ord_id, order.pay_token)
    assert refused(client.query_order, dict(q, payOrdId="ord-none")).code == codes.ORDER_NOT_FOUND
    assert refused(other_client.query_order, q).code == codes.OTHER_INSTITUTION
    assert refused(other_client.pay_order, pay_request(up, order)).code == codes.OTHER_INSTITUTION
    assert refused(client.query_order, dict(q, payToken="0" * 32)).code == codes.TOKEN_MISMATCH
    assert refused(client.pay_order, dict(pay_request(up, order), payToken="0" * 32)).code == codes.TOKEN_MISMATCH
    assert refused(client.revoke_upload, dict(q, payToken="0" * 32)).code == codes.TOKEN_MISMATCH
    assert refused(client.query_order, dict(q, idNo="110101199003074514")).code == codes.FIELD_MISMATCH
    assert refused(client.pay_order, dict(pay_request(up, order), chrgBchno="OTHER")).code == codes.FIELD_MISMATCH
    other_org = dict(new_upload(), orgCodg="H99999999999")
    assert refused(client.upload_fees, other_org).code == codes.FIELD_MISMATCH
    # unpaid: nothing to refund
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFU", cash="1.00")).code == codes.NOT_PAID

    client.pay_order(pay_request(up, order))
    assert refused(client.pay_order, pay_request(up, order, biz="PAY-AGAIN")).code == codes.ALREADY_PAID
    assert refused(client.revoke_upload, q).code == codes.PAID_CANNOT_REVOKE
    paid = client.query_order(q)
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFO", cash=str(paid.own_pay_amt + D("0.01")))
                   ).code == codes.OVER_REFUND
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFO2", fund=str(paid.fund_pay + 1),
                                                  refd_type="HI")).code == codes.OVER_REFUND
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFI1", cash="1.00", fund="1.00",
                                                  refd_type="CASH")).code == codes.REFUND_INCONSISTENT
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFI2", cash="1.00", refd_type="HI")
                   ).code == codes.REFUND_INCONSISTENT
    assert refused(client.refund, refund_request(order.pay_ord_id, "RFI3", cash="1.00", total="2.00")
                   ).code == codes.REFUND_INCONSISTENT
    assert refused(other_client.refund, refund_request(order.pay_ord_id, "RFX", cash="1.00")
                   ).code == codes.OTHER_INSTITUTION

    # revoked: neither paid nor refunded
    up2 = new_upload()
    o2 = client.upload_fees(up2)
    q2 = query_of(up2, o2.pay_ord_id, o2.pay_token)
    assert client.revoke_upload(q2).success is True
    assert client.revoke_upload(q2).success is True  # again: still revoked, no error
    assert refused(client.pay_order, pay_request(up2, o2)).code == codes.REVOKED
    assert refused(client.refund, refund_request(o2.pay_ord_id, "RFR", cash="1.00")).code == codes.REVOKED
    assert client.query_order(q2).ord_stas == "12"


def test_cashier_refusals(client, sb, raw):
    up = new_upload()
    order = client.upload_fees(up)
    ours, theirs = client_credentials(raw), client_credentials(raw, 1)
    # a link made with another institution's key for our order
    r = httpx.get(mp.cashier_url(order.cashier_url, theirs, "AUTH1"))
    assert r.status_code == 400 and "3002" in r.text
    # a tampered chnlEncData
    good = mp.cashier_url(order.cashier_url, ours, "AUTH1")
    r = httpx.get(good[:-6] + "ABCDEF")
    assert r.status_code == 400
    r = httpx.post(sb.url + "/sandbox/cashier/pay", data={"payOrdId": order.pay_ord_id, "chnlAppId": ours.app_id,
                                                          "chnlEncData": "00" * 16, "chnlType": "WX"})
    assert r.status_code == 409 and "1001" in r.text
    client.revoke_upload(query_of(up, order.pay_ord_id, order.pay_token))
    assert httpx.get(good).status_code == 409


def test_strict_auth_accepts_only_issued_pay_auth_numbers(sink):
    raw = make_config(sink, strictAuth=True)
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        up = new_upload()
        order = client.upload_fees(up)
        assert refused(client.pay_order, pay_request(up, order, auth="MADEUP")).code == codes.AUTH_REFUSED
        r = httpx.post(sb.url + "/sandbox/voucher", json=dict(sample_person(), userName="李四",
                                                              idNo="110101199003074514"),
                       headers={"Accept": "application/json"})
        someone_else = r.json()["payAuthNo"]
        e = refused(client.pay_order, pay_request(up, order, auth=someone_else))
        assert e.code == codes.AUTH_REFUSED and "another person" in e.message
        issued = httpx.post(sb.url + "/sandbox/voucher", json=sample_person(),
                            headers={"Accept": "application/json"}).json()
        # the QR decodes with the institution's appId/appSecret (6101 stand-in)
        from medpay_core.voucher import SandboxVoucherDecoder

        creds = client_credentials(raw)
        person = SandboxVoucherDecoder(mp.Credentials(creds.app_id, creds.app_secret)).decode(
            issued["qrText"], {"orgId": "H1", "businessType": "01101", "operatorId": "1", "operatorName": "a",
                               "officeId": "1", "officeName": "b"})
        assert person.auth_no == issued["payAuthNo"] and person.id_no == up["idNo"]
        # the cashier page refuses a made-up payAuthNo up front
        page = httpx.get(mp.cashier_url(order.cashier_url, creds, "MADEUP"))
        assert "2002" in page.text
        assert client.pay_order(pay_request(up, order, auth=issued["payAuthNo"])).ord_stas == "6"
        html = httpx.get(sb.url + "/sandbox/voucher").text
        assert "<form" in html


def test_config_accepts_keys_in_every_format(sink):
    raw = make_config(sink)
    center = mp.SM2PrivateKey.from_string(raw["privateKey"])
    pub = mp.SM2PublicKey.from_string(raw["institutions"][0]["publicKey"])
    raw["privateKey"] = center.to_pem()
    raw["institutions"][0]["publicKey"] = pub.to_base64()
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        assert client.upload_fees(new_upload()).pay_ord_id


def test_config_errors_name_the_entry():
    from medpay_core.sandbox import parse_config

    raw = make_config(NoticeSink())
    with pytest.raises(ValueError, match=r"institutions\[0\] needs 'notifyUrl'"):
        parse_config(dict(raw, institutions=[{k: v for k, v in raw["institutions"][0].items() if k != "notifyUrl"}]))
    with pytest.raises(ValueError, match="privateKey"):
        parse_config(dict(raw, privateKey="nope"))
    with pytest.raises(ValueError, match="ratios"):
        parse_config(dict(raw, ratios={"fund": "0.9", "acct": "0.2"}))


def test_configured_ratios_drive_every_amount(sink):
    from medpay_core.sandbox import Ratios, split_amount

    raw = make_config(sink, ratios={"fund": "0.55", "acct": "0.15", "other": "0.05"})
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        for flag in ("1", "0"):
            up = new_upload(acct_used_flag=flag, lines=[("甲", "盒", "3", "33.33"), ("乙", "次", "1", "0.01")])
            order = client.upload_fees(up)
            paid = client.pay_order(pay_request(up, order))
            want = split_amount(up["medfeeSumamt"], Ratios(D("0.55"), D("0.15"), D("0.05")), acct_used=flag == "1")
            assert (paid.fund_pay, paid.psn_acct_pay, paid.oth_fee_amt, paid.own_pay_amt) == (
                want.fund, want.acct, want.other, want.cash)
            assert paid.fund_pay + paid.psn_acct_pay + paid.oth_fee_amt + paid.own_pay_amt == up["medfeeSumamt"]
        notices = sink.wait_acked(2)
        assert len(notices) == 2
        last = sink.posts[-1]["data"]
        assert last["psnAcctPay"] == D("0.00") and last["ownpayAmt"] == paid.own_pay_amt


def test_the_sandbox_keeps_personal_data_private(sb, tmp_path):
    # Issue 12, F12: idNo and names were in plain text in the events (logged and shown at
    # /sandbox/events) and in a 0644 database; a refusal repeated the stored idNo.
    import os
    import stat

    from medpay_core.sandbox.center import Center
    from medpay_core.sandbox.codes import SandboxError
    from medpay_core.sandbox.store import Store

    sb.sandbox.issue_voucher({"userName": "张三", "idNo": "350181199011193519"})
    events = json.dumps(sb.sandbox.events(), ensure_ascii=False)
    assert "voucher.issued" in events
    assert "350181199011193519" not in events and "350181********3519" in events

    db = tmp_path / "center.db"
    Store(str(db)).close()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600

    class Uploaded:
        pay_ord_id = "ORD1"
        upload = {"idNo": "350181199011193519"}

    with pytest.raises(SandboxError) as exc:
        Center._same(Uploaded(), {"idNo": "110101199003077777"}, "6301")  # type: ignore[arg-type]
    assert "350181199011193519" not in str(exc.value) and "110101199003077777" not in str(exc.value)
