"""Bodies that are not envelopes, or not quite: a duplicate key, a NaN, nesting 10,000
deep. The sandbox reads every body with the native core's parser, so each one gets the
typed refusal at every entry point (the API, the notifier reading an institution's
reply, the e-voucher page), never a crash and never a silent misreading."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import medpay_core as mp
from medpay_core.client import MedpayClient
from medpay_core.sandbox import SandboxServer, codes
from medpay_core.sandbox.demo import query_of, sample_fee_upload, sample_person
from medpay_core.sandbox.notifier import reply_success
from sandbox_support import NoticeSink, client_credentials, hostile_bodies, make_config, wait_until
from sandbox_support import sb, sink  # noqa: F401 (fixtures)


@pytest.fixture
def raw(sink: NoticeSink) -> dict[str, Any]:
    return make_config(sink)


def _hostile(raw: dict[str, Any]) -> dict[str, bytes]:
    creds = client_credentials(raw)
    return hostile_bodies(creds.app_id, mp.EnvelopeCodec(creds).pack_json({"payOrdId": "ORD1"}))


@pytest.mark.parametrize("kind", ["duplicate key", "NaN", "10,000-deep nesting"])
def test_the_api_refuses_each_with_1001_unsigned(sb: SandboxServer, raw: dict[str, Any], kind: str) -> None:
    r = httpx.post(sb.url + "/org/local/api/hos/query_order_info", content=_hostile(raw)[kind])
    assert r.status_code == 200
    answer = r.json()
    # Unsigned: a body that does not parse names no institution to sign for.
    assert answer["code"] == codes.BAD_ENVELOPE and answer["success"] is False and "signData" not in answer
    assert "the body is not an envelope" in answer["message"]
    # The sandbox is still serving.
    assert httpx.get(sb.url + "/sandbox/health").json() == {"ok": True}


def test_the_api_names_the_problem_at_the_bodys_own_offset(sb: SandboxServer) -> None:
    r = httpx.post(sb.url + "/org/local/api/hos/query_order_info", content=b'{"appId": x}')
    assert "at byte 10" in r.json()["message"]


@pytest.mark.parametrize("kind", ["duplicate key", "NaN", "10,000-deep nesting"])
def test_the_notifier_does_not_take_a_hostile_reply_for_an_acknowledgement(kind: str) -> None:
    body = {
        # stdlib json would read success as true (the last of the two).
        "duplicate key": b'{"code":"0","msg":"ok","data":{"success":false,"success":true}}',
        "NaN": b'{"success":true,"message":NaN}',
        "10,000-deep nesting": b'{"success":true,"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    }[kind]
    ok, why = reply_success(body)
    assert ok is False and why.startswith("reply is not a JSON object")


def test_a_reply_smuggling_members_past_the_object_is_refused() -> None:
    assert reply_success(b'{"success":false},"success":true')[0] is False
    assert reply_success(b'"{\\"success\\":true}"')[0] is False  # a JSON string, not an object
    assert reply_success(b'{"success":true}')[0] is True


@pytest.mark.parametrize("kind", ["duplicate key", "10,000-deep nesting"])
def test_a_hostile_reply_is_retried_then_a_good_one_acknowledged(sink: NoticeSink, kind: str) -> None:
    raw = make_config(sink)
    sink.mode = "raw"
    sink.raw_reply = {
        "duplicate key": b'{"success":false,"success":true,"message":"x"}',
        "10,000-deep nesting": b'{"success":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    }[kind]
    with SandboxServer(raw) as sb, MedpayClient(sb.url, client_credentials(raw), retries=0) as client:
        up = sample_fee_upload("MOHOSTILE" + kind[:3].replace(" ", "").upper() + "0001")
        order = client.upload_fees(up)
        client.pay_order({"payAuthNo": "AUTH1", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                          "orgCodg": up["orgCodg"], "orgBizSer": "PAYH1", "chrgBchno": up["chrgBchno"],
                          "feeType": up["feeType"], "mdtrtId": "MD1"})
        sink.wait_posts(2)  # refused, counted as an attempt, posted again: the worker lives on
        state = sb.sandbox.order_state(order.pay_ord_id)
        assert state["notice"]["status"] == "PENDING" and "reply is not a JSON object" in state["notice"]["lastError"]
        sink.mode = "ok"
        assert sink.wait_acked(1) == [order.pay_ord_id]
        wait_until(lambda: sb.sandbox.order_state(order.pay_ord_id)["notice"]["status"] == "DELIVERED")
        assert client.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "6"


@pytest.mark.parametrize("body", [
    b'{"userName":"a","userName":"b","idNo":"350181199011193519"}',
    b'{"userName":"a","idNo":NaN}',
    b'{"userName":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
])
def test_the_voucher_page_refuses_each_with_400(sb: SandboxServer, body: bytes) -> None:
    r = httpx.post(sb.url + "/sandbox/voucher", content=body, headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == codes.INVALID_DATA and "neither a JSON object nor a form" in r.json()["message"]


def test_the_voucher_page_still_issues_for_a_good_body(sb: SandboxServer) -> None:
    r = httpx.post(sb.url + "/sandbox/voucher", json=sample_person(), headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["payAuthNo"].startswith("AUTH")
    # The person's fields are the 6101 model's to check: no userName is a 2001 naming it.
    r = httpx.post(sb.url + "/sandbox/voucher", json={"idNo": "350181199011193519"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 400 and "userName" in r.json()["message"]
