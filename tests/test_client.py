"""The client against a local center on 127.0.0.1 (tests/center_server.py): a real HTTP
server that signs with the center's key, made slow, broken or refusing on demand."""

from __future__ import annotations

import logging
import socket
from decimal import Decimal

import pytest

models = pytest.importorskip("medpay_core.models")

import center_server as cs  # noqa: E402
import medpay_core as mp  # noqa: E402
from medpay_core.client import (  # noqa: E402
    FINAL_ORD_STAS,
    AsyncMedpayClient,
    MedpayClient,
    is_final_ord_stas,
)
from medpay_core.ids import new_app_refd_sn, new_org_biz_ser  # noqa: E402


def client_for(center, **kw):
    kw.setdefault("timeout", 10.0)
    kw.setdefault("backoff", 0.01)
    return MedpayClient(center.url, center.inst_credentials, **kw)


def async_client_for(center, **kw):
    kw.setdefault("timeout", 10.0)
    kw.setdefault("backoff", 0.01)
    return AsyncMedpayClient(center.url, center.inst_credentials, **kw)


CALLS = [
    ("upload_fees", "uldFeeInfo", cs.fee_upload_request, "FeeUploadResponse"),
    ("pay_order", "pay_order", cs.pay_order_request, "PayOrderResponse"),
    ("refund", "refund_Order", cs.refund_request, "RefundResponse"),
    ("bank_card_pay", "medBankPay", cs.bank_card_pay_request, "BankCardPayResponse"),
    ("query_order", "query_order_info", cs.query_request, "QueryOrderResponse"),
    ("revoke_upload", "revoke_order", cs.revoke_request, "RevokeResponse"),
]


@pytest.mark.parametrize("method,endpoint,make_request,response_cls", CALLS, ids=[c[0] for c in CALLS])
def test_each_transaction_posts_a_signed_envelope_to_its_endpoint_and_returns_its_response_model(
    center, method, endpoint, make_request, response_cls
):
    request = make_request()
    with client_for(center) as client:
        result = getattr(client, method)(request)
    assert isinstance(result, getattr(models, response_cls))
    assert center.count(endpoint) == 1
    received = center.received[0][1]
    for key in ("payOrdId", "orgCodg", "medOrgOrd", "appRefdSn"):
        if key in request:
            assert received[key] == request[key]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_base_url_with_or_without_trailing_slash_reaches_the_endpoint(center, suffix):
    with MedpayClient(center.url + suffix, center.inst_credentials) as client:
        assert client.url_for("6301") == center.url + "/org/local/api/hos/query_order_info"
        client.query_order(cs.query_request())
    assert center.count("query_order_info") == 1


def test_a_model_instance_is_sent_like_its_dict(center):
    request = models.QueryOrderRequest.from_wire(cs.query_request("ORDMODEL"))
    with client_for(center) as client:
        result = client.query_order(request)
    assert result.pay_ord_id == "ORDMODEL"


def test_an_invalid_dict_is_refused_before_anything_is_sent(center):
    request = cs.query_request()
    del request["payToken"]
    with client_for(center) as client, pytest.raises(mp.ValidationError):
        client.query_order(request)
    assert center.received == [] and center.errors == []


def test_amounts_reach_the_center_with_their_decimal_literal(center):
    with client_for(center) as client:
        client.refund(cs.refund_request())
    data = center.received[0][1]
    assert data["totlRefdAmt"] == Decimal("100.00") and str(data["totlRefdAmt"]) == "100.00"


def test_exp_content_given_as_json_text_reaches_the_center_as_that_very_text(center):
    text = '{"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV01"}'
    as_dict = {"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV01"}
    with client_for(center) as client:
        client.pay_order({**cs.pay_order_request(), "expContent": text})
        client.pay_order({**cs.pay_order_request(org_biz_ser="BIZ0002"), "expContent": as_dict})
    assert center.received[0][1]["expContent"] == text  # the string, signed as given
    assert center.received[1][1]["expContent"] == as_dict  # an object stays an object


def test_an_answer_with_ext_data_as_json_text_is_read(center):
    data = {**cs.query_response("ORD000000000000000001", "6"), "extData": '{"psnPaySn":"PS1","x":"y"}'}
    center.enqueue("query_order_info", cs.ok(data))
    with client_for(center) as client:
        result = client.query_order(cs.query_request())
    assert result.ext_data.psn_pay_sn == "PS1" and result.ext_data.model_extra == {"x": "y"}


def test_the_response_amounts_are_decimals(center):
    with client_for(center) as client:
        result = client.pay_order(cs.pay_order_request())
    assert isinstance(result.fee_sumamt, Decimal) and result.fee_sumamt == Decimal("100.00")


def test_signed_business_error_keeps_code_message_and_response(center):
    center.enqueue("query_order_info", cs.business_error(500001, "订单不存在"))
    with client_for(center) as client, pytest.raises(mp.BusinessError) as ei:
        client.query_order(cs.query_request())
    err = ei.value
    assert err.code == 500001 and err.message == "订单不存在"
    assert err.signed is True
    assert err.response["code"] == 500001


def test_string_code_zero_counts_as_success(center):
    data = cs.query_response("ORD000000000000000001", "6")

    def string_code(c, h, req):
        h.reply(200, c.codec.pack_json(data, code="0", message="成功", success=True))

    center.enqueue("query_order_info", string_code)
    with client_for(center) as client:
        assert client.query_order(cs.query_request()).ord_stas == "6"


def test_unsigned_refusal_is_a_business_error_marked_unsigned(center):
    center.enqueue("pay_order", cs.business_error(-1, "系统繁忙", signed=False))
    with client_for(center) as client, pytest.raises(mp.BusinessError) as ei:
        client.pay_order(cs.pay_order_request())
    assert ei.value.code == -1 and ei.value.message == "系统繁忙"
    assert ei.value.signed is False
    assert "unsigned" in str(ei.value)


def test_a_request_signed_with_the_wrong_key_gets_the_centers_unsigned_refusal(center):
    creds = mp.Credentials(
        center.app_id, cs.APP_SECRET, mp.SM2PrivateKey.generate(), center.center_key.public_key()
    )
    with MedpayClient(center.url, creds) as client, pytest.raises(mp.BusinessError) as ei:
        client.query_order(cs.query_request())
    assert ei.value.code == 401 and ei.value.signed is False
    assert center.received == [] and len(center.errors) == 1


def test_an_unsigned_success_is_never_trusted(center):
    center.enqueue("pay_order", cs.unsigned_success())
    with client_for(center) as client, pytest.raises(mp.SignatureError):
        client.pay_order(cs.pay_order_request())


def test_a_response_signed_with_another_key_raises_signature_error(center):
    center.enqueue("query_order_info", cs.wrong_key())
    with client_for(center) as client, pytest.raises(mp.SignatureError):
        client.query_order(cs.query_request())


def test_signature_errors_are_not_retried(center):
    center.enqueue("query_order_info", cs.wrong_key(), cs.ok())
    with client_for(center, retries=3) as client, pytest.raises(mp.SignatureError):
        client.query_order(cs.query_request())
    assert center.count("query_order_info") == 1


def test_a_non_json_body_raises_envelope_error(center):
    center.enqueue("query_order_info", cs.raw(b"<html>gateway says hi</html>"))
    with client_for(center) as client, pytest.raises(mp.EnvelopeError):
        client.query_order(cs.query_request())


def test_a_json_array_body_raises_envelope_error(center):
    center.enqueue("query_order_info", cs.raw(b"[1, 2]"))
    with client_for(center) as client, pytest.raises(mp.EnvelopeError):
        client.query_order(cs.query_request())


def test_revoke_answered_with_data_success_false_is_a_business_error(center):
    center.enqueue("revoke_order", cs.ok({"success": False, "message": "已结算订单不可撤销"}))
    with client_for(center) as client, pytest.raises(mp.BusinessError) as ei:
        client.revoke_upload(cs.revoke_request())
    assert ei.value.message == "已结算订单不可撤销"


# -- transport failures and retries -------------------------------------------------------


def test_http_500_on_a_query_is_retried_until_it_succeeds(center):
    center.enqueue("query_order_info", cs.status(500), cs.status(503))
    with client_for(center, retries=2) as client:
        assert client.query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 3


def test_http_500_on_a_query_after_all_retries_is_a_transport_error(center):
    center.set_default("query_order_info", cs.status(500))
    with client_for(center, retries=2) as client, pytest.raises(mp.TransportError) as ei:
        client.query_order(cs.query_request())
    assert ei.value.status_code == 500
    assert center.count("query_order_info") == 3


def test_http_400_on_a_query_is_not_retried(center):
    center.enqueue("query_order_info", cs.status(400, b"bad request"))
    with client_for(center, retries=2) as client, pytest.raises(mp.TransportError):
        client.query_order(cs.query_request())
    assert center.count("query_order_info") == 1


@pytest.mark.parametrize(
    "method,endpoint,make_request",
    [
        ("pay_order", "pay_order", cs.pay_order_request),
        ("refund", "refund_Order", cs.refund_request),
        ("bank_card_pay", "medBankPay", cs.bank_card_pay_request),
        ("upload_fees", "uldFeeInfo", cs.fee_upload_request),
        ("revoke_upload", "revoke_order", cs.revoke_request),
    ],
)
def test_http_500_on_a_non_idempotent_call_is_outcome_unknown_and_not_reposted(center, method, endpoint, make_request):
    center.set_default(endpoint, cs.status(500))
    with client_for(center, retries=3) as client, pytest.raises(mp.OutcomeUnknown) as ei:
        getattr(client, method)(make_request())
    assert isinstance(ei.value.__cause__, mp.TransportError)
    assert ei.value.request is not None
    assert center.count(endpoint) == 1


def test_http_404_on_a_payment_is_a_transport_error_not_an_unknown_outcome(center):
    client = MedpayClient(center.url + "/wrong-prefix", center.inst_credentials)
    with client, pytest.raises(mp.TransportError) as ei:
        client.pay_order(cs.pay_order_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)
    assert ei.value.status_code == 404


@pytest.mark.parametrize(
    "method,endpoint,make_request",
    [
        ("pay_order", "pay_order", cs.pay_order_request),
        ("refund", "refund_Order", cs.refund_request),
        ("bank_card_pay", "medBankPay", cs.bank_card_pay_request),
    ],
)
def test_a_payment_that_times_out_is_outcome_unknown_and_not_reposted(center, method, endpoint, make_request):
    center.enqueue(endpoint, cs.slow(60))
    with client_for(center, timeout=1.0, retries=3) as client, pytest.raises(mp.OutcomeUnknown) as ei:
        getattr(client, method)(make_request())
    assert ei.value.request is not None
    assert center.count(endpoint) == 1


@pytest.mark.parametrize(
    "method,endpoint,make_request",
    [
        ("pay_order", "pay_order", cs.pay_order_request),
        ("refund", "refund_Order", cs.refund_request),
        ("bank_card_pay", "medBankPay", cs.bank_card_pay_request),
    ],
)
def test_a_payment_whose_connection_drops_is_outcome_unknown_and_not_reposted(center, method, endpoint, make_request):
    center.enqueue(endpoint, cs.drop())
    with client_for(center, retries=3) as client, pytest.raises(mp.OutcomeUnknown):
        getattr(client, method)(make_request())
    assert center.count(endpoint) == 1


def test_a_query_that_times_out_is_retried(center):
    center.enqueue("query_order_info", cs.slow(60))
    with client_for(center, timeout=1.0, retries=2) as client:
        assert client.query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 2


def test_a_query_whose_connection_drops_is_retried(center):
    center.enqueue("query_order_info", cs.drop(), cs.drop())
    with client_for(center, retries=2) as client:
        assert client.query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 3


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_refused_connection_is_a_transport_error_even_for_a_payment(center):
    # Nothing was sent, so the outcome is known: nothing happened.
    url = f"http://127.0.0.1:{free_port()}"
    with MedpayClient(url, center.inst_credentials, backoff=0.01) as client:
        with pytest.raises(mp.TransportError) as ei:
            client.pay_order(cs.pay_order_request())
        assert not isinstance(ei.value, mp.OutcomeUnknown)
        with pytest.raises(mp.TransportError):
            client.query_order(cs.query_request())


# -- waiting for settlement ---------------------------------------------------------------


def test_wait_for_settlement_polls_until_the_order_is_final(center):
    pending = cs.ok(cs.query_response("ORD000000000000000001", "2"))
    center.enqueue("query_order_info", pending, pending)
    with client_for(center) as client:
        final = client.wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert final.ord_stas == "6"
    assert center.count("query_order_info") == 3


@pytest.mark.parametrize("state,label", [("0", "已保存"), ("2", "待支付（结算中）"), ("17", "退款中"),
                                         ("99", "未知状态")])
def test_wait_for_settlement_on_an_order_not_final_says_its_state_and_is_not_outcome_unknown(center, state, label):
    # 0-5 (not paid or not settled yet) and values this version does not know are not
    # final; at the deadline the state is known, so the error is not OutcomeUnknown.
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", state)))
    with client_for(center) as client, pytest.raises(mp.SettlementPending) as ei:
        client.wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    err = ei.value
    assert not isinstance(err, mp.OutcomeUnknown)
    assert (err.ord_stas, err.label, err.last_response.ord_stas) == (state, label, state)
    assert f"still in state {state} ({label})" in str(err)


def test_wait_for_settlement_with_no_answer_at_all_is_outcome_unknown(center):
    center.set_default("query_order_info", cs.status(503))
    with client_for(center, retries=0) as client, pytest.raises(mp.OutcomeUnknown) as ei:
        client.wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    assert ei.value.last_response is None and "no answer" in str(ei.value)
    assert isinstance(ei.value.__cause__, mp.TransportError)


def test_wait_for_settlement_rides_out_transport_failures(center):
    center.enqueue("query_order_info", cs.status(503), cs.drop())
    with client_for(center, retries=0) as client:
        final = client.wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert final.ord_stas == "6"


def test_wait_for_settlement_raises_business_errors_at_once(center):
    center.set_default("query_order_info", cs.business_error(404, "订单不存在"))
    with client_for(center) as client, pytest.raises(mp.BusinessError):
        client.wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert center.count("query_order_info") == 1


def test_final_order_states_are_settled_refunded_revoked_failed_or_abnormal():
    assert {"6", "7", "12", "15"} <= FINAL_ORD_STAS
    assert not any(is_final_ord_stas(s) for s in ("0", "1", "2", "3", "4", "5", None))


def test_the_ord_stas_dictionary_reads_0_as_saved_and_unknown_values_as_not_final():
    assert mp.ORD_STAS["0"] == "已保存" and mp.ORD_STAS["17"] == "退款中"
    assert FINAL_ORD_STAS == frozenset(str(n) for n in range(6, 17))
    assert not is_final_ord_stas("17") and not is_final_ord_stas("99")
    assert is_final_ord_stas(" 6") and is_final_ord_stas(12)
    assert mp.ord_stas_label(0) == "已保存" and mp.ord_stas_label("99") == "未知状态"


def test_the_ord_stas_dictionary_lives_only_in_the_client_module():
    import pathlib

    root = pathlib.Path(mp.__file__).parent
    holders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
               if "医保全部退自费部分退款" in p.read_text(encoding="utf-8")]
    assert holders == ["client.py"]


# -- hygiene -------------------------------------------------------------------------------


def test_the_client_logs_no_secret(center, caplog):
    caplog.set_level(logging.DEBUG)
    center.enqueue("query_order_info", cs.status(500))
    with client_for(center) as client:
        client.query_order(cs.query_request())
        text = caplog.text + repr(client) + repr(client.codec.credentials)
    assert cs.APP_SECRET not in text
    assert center.inst_key.to_hex() not in text
    assert "150204198912131512" not in text  # nor the patient's id number


def test_the_context_manager_closes_the_http_client(center):
    with client_for(center) as client:
        client.query_order(cs.query_request())
    assert client._http.is_closed


def test_new_ids_are_unique_and_within_the_spec_length():
    ids = {new_org_biz_ser() for _ in range(2000)} | {new_app_refd_sn("RF") for _ in range(2000)}
    assert len(ids) == 4000
    assert all(len(i) <= 40 and i.isalnum() for i in ids)
    with pytest.raises(ValueError):
        new_org_biz_ser("X" * 10)


# -- async ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_client_pays_and_queries(center):
    async with async_client_for(center) as client:
        paid = await client.pay_order(cs.pay_order_request())
        final = await client.query_order(cs.query_request())
    assert paid.ord_stas == "2" and final.ord_stas == "6"


@pytest.mark.asyncio
async def test_async_payment_that_times_out_is_outcome_unknown_and_not_reposted(center):
    center.enqueue("pay_order", cs.slow(60))
    async with async_client_for(center, timeout=1.0, retries=3) as client:
        with pytest.raises(mp.OutcomeUnknown):
            await client.pay_order(cs.pay_order_request())
    assert center.count("pay_order") == 1


@pytest.mark.asyncio
async def test_async_query_is_retried_after_a_dropped_connection_and_a_500(center):
    center.enqueue("query_order_info", cs.drop(), cs.status(500))
    async with async_client_for(center, retries=2) as client:
        assert (await client.query_order(cs.query_request())).ord_stas == "6"
    assert center.count("query_order_info") == 3


@pytest.mark.asyncio
async def test_async_business_and_signature_errors(center):
    center.enqueue("query_order_info", cs.business_error(7, "no"), cs.wrong_key())
    async with async_client_for(center) as client:
        with pytest.raises(mp.BusinessError):
            await client.query_order(cs.query_request())
        with pytest.raises(mp.SignatureError):
            await client.query_order(cs.query_request())


@pytest.mark.asyncio
async def test_async_wait_for_settlement_polls_until_final(center):
    center.enqueue("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", "1")))
    async with async_client_for(center) as client:
        final = await client.wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert final.ord_stas == "6"


@pytest.mark.asyncio
async def test_async_wait_for_settlement_on_a_saved_order_says_its_state(center):
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", "0")))
    async with async_client_for(center) as client:
        with pytest.raises(mp.SettlementPending) as ei:
            await client.wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    assert not isinstance(ei.value, mp.OutcomeUnknown)
    assert ei.value.ord_stas == "0" and "still in state 0 (已保存)" in str(ei.value)


# -- untrustworthy answers to calls that are not idempotent --------------------------------


@pytest.mark.parametrize(
    "behaviour,error",
    [
        (cs.wrong_key(), mp.SignatureError),
        (cs.unsigned_success(), mp.SignatureError),
        (cs.raw(b"<html>proxy error</html>"), mp.EnvelopeError),
        (cs.business_error(-1, "系统繁忙", signed=False), mp.BusinessError),
    ],
    ids=["bad-signature", "unsigned-success", "not-json", "unsigned-refusal"],
)
def test_an_untrustworthy_answer_to_a_payment_is_also_outcome_unknown(center, behaviour, error):
    center.enqueue("pay_order", behaviour)
    with client_for(center) as client, pytest.raises(error) as ei:
        client.pay_order(cs.pay_order_request())
    assert isinstance(ei.value, mp.OutcomeUnknown)
    assert ei.value.request is not None
    assert center.count("pay_order") == 1


def test_a_signed_refusal_of_a_payment_is_a_definite_business_error(center):
    center.enqueue("pay_order", cs.business_error(30001, "余额不足"))
    with client_for(center) as client, pytest.raises(mp.BusinessError) as ei:
        client.pay_order(cs.pay_order_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)


def test_an_untrustworthy_answer_to_a_query_is_not_an_unknown_outcome(center):
    center.enqueue("query_order_info", cs.wrong_key())
    with client_for(center) as client, pytest.raises(mp.SignatureError) as ei:
        client.query_order(cs.query_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)


def test_an_oversized_answer_is_refused(center):
    center.enqueue("pay_order", cs.raw(b"{" + b" " * 5000 + b"}"))
    with client_for(center, max_response_bytes=1000) as client, pytest.raises(mp.EnvelopeError) as ei:
        client.pay_order(cs.pay_order_request())
    assert "larger than 1000 bytes" in str(ei.value)
    assert isinstance(ei.value, mp.OutcomeUnknown)


@pytest.mark.asyncio
async def test_async_untrustworthy_answer_to_a_refund_is_also_outcome_unknown(center):
    center.enqueue("refund_Order", cs.wrong_key())
    async with async_client_for(center) as client:
        with pytest.raises(mp.OutcomeUnknown):
            await client.refund(cs.refund_request())


def test_the_client_endpoints_match_the_models_transactions():
    from medpay_core.client import ENDPOINTS

    for code, ep in ENDPOINTS.items():
        t = models.TRANSACTIONS[code]
        assert t.path == ep.name
        assert t.request is getattr(models, ep.request) and t.response is getattr(models, ep.response)
