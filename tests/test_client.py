"""The client against a local center on 127.0.0.1 (tests/center_server.py): a real HTTP
server that signs with the center's key, made slow, broken or refusing on demand.

Every test that talks to the center runs with MedpayClient and with AsyncMedpayClient,
each with its default transport and with an httpx client (the ``connect`` fixture): all
drive the same flow, and these tests hold them to it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import pickle
import socket
import typing
from decimal import Decimal

import httpx
import pytest

import center_server as cs
import client_support as sup
import medpay_core as mp
from medpay_core import client as client_module
from medpay_core import models
from medpay_core.client import FINAL_ORD_STAS, AsyncMedpayClient, MedpayClient, is_final_ord_stas
from medpay_core.errors import UnsignedRefusal
from medpay_core.ids import new_app_refd_sn, new_org_biz_ser

needs_bare_refusals = pytest.mark.skipif(not sup.native_reads_bare_refusals(), reason=sup.WAITS_FOR_RUST_UNSIGNED)
needs_center_code = pytest.mark.skipif(not sup.native_decrypt_error_has_center_code(),
                                       reason=sup.WAITS_FOR_RUST_CENTER_CODE)


@pytest.fixture(params=sup.KINDS)
def connect(request, center):
    """``connect(url=None, credentials=None, **client_kwargs)``: a client of ``center``
    (sync, or async driven from sync code), closed at the end of the test."""
    made = []

    def connect(url=None, credentials=None, **kw):
        c = sup.open_client(request.param, center.url if url is None else url,
                            center.inst_credentials if credentials is None else credentials, **kw)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()


CALLS = [
    ("upload_fees", "uldFeeInfo", cs.fee_upload_request, models.FeeUploadResponse),
    ("pay_order", "pay_order", cs.pay_order_request, models.PayOrderResponse),
    ("refund", "refund_Order", cs.refund_request, models.RefundResponse),
    ("bank_card_pay", "medBankPay", cs.bank_card_pay_request, models.BankCardPayResponse),
    ("query_order", "query_order_info", cs.query_request, models.QueryOrderResponse),
    ("revoke_upload", "revoke_order", cs.revoke_request, models.RevokeResponse),
]
NOT_RETRY_SAFE = [c[:3] for c in CALLS if c[0] != "query_order"]
PAYMENTS = [c[:3] for c in CALLS if c[0] in ("pay_order", "refund", "bank_card_pay")]


# -- the transactions ------------------------------------------------------------------------


@pytest.mark.parametrize("method,endpoint,make_request,response_cls", CALLS, ids=[c[0] for c in CALLS])
def test_each_transaction_posts_a_signed_envelope_to_its_endpoint_and_returns_its_answer_model(
    connect, center, method, endpoint, make_request, response_cls
):
    request = make_request()
    result = getattr(connect(), method)(request)
    assert type(result) is response_cls
    assert center.count(endpoint) == 1
    received = center.received[0][1]
    for key in ("payOrdId", "orgCodg", "medOrgOrd", "appRefdSn"):
        if key in request:
            assert received[key] == request[key]


@pytest.mark.parametrize("code", sorted(c for c, t in models.TRANSACTIONS.items() if t.method))
def test_call_by_code_sends_the_transaction_of_the_table(connect, center, code):
    t = models.TRANSACTIONS[code]
    make_request = next(c[2] for c in CALLS if c[0] == t.method)
    result = connect().call(code, make_request())
    assert type(result) is t.response and center.count(t.path) == 1


@pytest.mark.parametrize("code", ["6101", "6204", "6302", "9999"])
def test_call_with_a_code_the_client_does_not_send_is_refused(connect, center, code):
    with pytest.raises(ValueError, match="the client sends 6201, 6202, 6203, 6205, 6301, 6401"):
        connect().call(code, {})
    assert center.received == []


@pytest.mark.parametrize("suffix", ["", "/"])
def test_base_url_with_or_without_trailing_slash_reaches_the_endpoint(connect, center, suffix):
    client = connect(center.url + suffix)
    assert client.url_for("6301") == center.url + "/org/local/api/hos/query_order_info"
    client.query_order(cs.query_request())
    assert center.count("query_order_info") == 1


def test_a_model_instance_is_sent_like_its_dict(connect):
    request = models.validate(models.QueryOrderRequest, cs.query_request("ORDMODEL"))
    assert connect().query_order(request).pay_ord_id == "ORDMODEL"


def test_an_invalid_dict_is_refused_before_anything_is_sent(connect, center):
    request = cs.query_request()
    del request["payToken"]
    with pytest.raises(mp.ValidationError) as ei:
        connect().query_order(request)
    assert [(e["field"], e["rule"]) for e in ei.value.errors] == [("payToken", "required")]
    assert ei.value.response is None
    sup.assert_declared(ei.value)
    assert center.received == [] and center.errors == []


def test_a_typod_field_in_a_dict_is_refused_before_anything_is_sent(connect, center):
    request = {**cs.pay_order_request(), "orgBizSr": "BIZ0001"}  # orgBizSer mistyped
    with pytest.raises(mp.ValidationError) as ei:
        connect().pay_order(request)
    assert "orgBizSr" in {e["field"] for e in ei.value.errors}
    assert center.received == [] and center.errors == []


def test_amounts_reach_the_center_with_their_decimal_literal(connect, center):
    connect().refund(cs.refund_request())
    data = center.received[0][1]
    assert data["totlRefdAmt"] == Decimal("100.00") and str(data["totlRefdAmt"]) == "100.00"


def test_exp_content_given_as_json_text_reaches_the_center_as_that_very_text(connect, center):
    text = '{"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV01"}'
    as_dict = {"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV01"}
    client = connect()
    client.pay_order({**cs.pay_order_request(), "expContent": text})
    client.pay_order({**cs.pay_order_request(org_biz_ser="BIZ0002"), "expContent": as_dict})
    assert center.received[0][1]["expContent"] == text  # the string, signed as given
    assert center.received[1][1]["expContent"] == as_dict  # an object stays an object


def test_an_answer_with_ext_data_as_json_text_is_read(connect, center):
    data = {**cs.query_response("ORD000000000000000001", "6"), "extData": '{"psnPaySn":"PS1","x":"y"}'}
    center.enqueue("query_order_info", cs.ok(data))
    result = connect().query_order(cs.query_request())
    assert result.ext_data.psn_pay_sn == "PS1" and result.ext_data.model_extra == {"x": "y"}


def test_the_answer_amounts_are_decimals(connect):
    result = connect().pay_order(cs.pay_order_request())
    assert isinstance(result.fee_sumamt, Decimal) and result.fee_sumamt == Decimal("100.00")


def test_an_answer_whose_data_does_not_fit_the_model_is_a_validation_error_keeping_the_answer(connect, center):
    center.enqueue("pay_order", cs.ok({"payOrdId": "ORD1"}))  # ordStas and amounts missing
    with pytest.raises(mp.ValidationError) as ei:
        connect().pay_order(cs.pay_order_request())
    err = ei.value
    assert err.model == "PayOrderResponse" and err.response["data"] == {"payOrdId": "ORD1"}
    assert "ordStas" in {e["field"] for e in err.errors}
    assert str(err).startswith("the center accepted the request") and "Do not send the request again" in str(err)
    assert not isinstance(err, mp.OutcomeUnknown)
    sup.assert_declared(err)


# -- reading the answer: protocol fields read once, by the codec ------------------------------


def test_signed_business_error_keeps_code_message_and_response(connect, center):
    center.enqueue("query_order_info", cs.business_error(500001, "订单不存在"))
    with pytest.raises(mp.BusinessError) as ei:
        connect().query_order(cs.query_request())
    err = ei.value
    assert (err.code, err.message, err.transaction) == (500001, "订单不存在", "6301")
    assert err.response["code"] == 500001
    assert str(err).startswith("6301: the center refused the request: code 500001, 订单不存在.")
    sup.assert_declared(err)  # no .signed (or anything else) added after construction


def test_string_code_zero_counts_as_success(connect, center):
    center.enqueue("query_order_info", sup.string_code_zero(cs.query_response("ORD000000000000000001", "6")))
    assert connect().query_order(cs.query_request()).ord_stas == "6"


def test_the_envelope_is_read_by_one_parser_that_refuses_a_duplicate_code(connect, center):
    # A second, lenient parse of the body would read the last "code" (-1) as a refusal.
    center.enqueue("query_order_info", sup.duplicate_code(center.app_id))
    with pytest.raises(mp.EnvelopeError) as ei:
        connect().query_order(cs.query_request())
    assert "duplicate" in str(ei.value)
    sup.assert_declared(ei.value)


def test_the_client_keeps_no_reader_of_its_own_for_the_protocol_fields():
    # code, success and message are the Message's (normalised by the codec), and the
    # transaction table is the models' (TRANSACTIONS).
    for name in ("_code_value", "_success_value", "_also_outcome_unknown", "ENDPOINTS", "Endpoint", "json"):
        assert not hasattr(client_module, name), name


def test_the_retry_decision_reads_the_transaction_table(connect, center, monkeypatch):
    # Mark 6301 as not retry-safe in TRANSACTIONS: a 500 is then not retried, and the
    # query's outcome is unknown like a payment's.
    monkeypatch.setitem(models.TRANSACTIONS, "6301",
                        dataclasses.replace(models.TRANSACTIONS["6301"], retry_safe=False))
    center.set_default("query_order_info", cs.status(500))
    with pytest.raises(mp.OutcomeUnknown):
        connect(retries=3).query_order(cs.query_request())
    assert center.count("query_order_info") == 1


def test_the_endpoint_path_comes_from_the_transaction_table(connect, monkeypatch):
    monkeypatch.setitem(models.TRANSACTIONS, "6301",
                        dataclasses.replace(models.TRANSACTIONS["6301"], path="query_order_v2"))
    assert connect().url_for("6301").endswith("/org/local/api/hos/query_order_v2")


def test_revoke_answered_with_data_success_false_is_a_business_error(connect, center):
    center.enqueue("revoke_order", cs.ok({"success": False, "message": "已结算订单不可撤销"}))
    with pytest.raises(mp.BusinessError) as ei:
        connect().revoke_upload(cs.revoke_request())
    assert ei.value.message == "已结算订单不可撤销" and ei.value.code == 0
    assert not isinstance(ei.value, mp.OutcomeUnknown)


def test_a_response_signed_with_another_key_raises_signature_error_naming_the_key(connect, center):
    center.enqueue("query_order_info", cs.wrong_key())
    with pytest.raises(mp.SignatureError) as ei:
        connect().query_order(cs.query_request())
    assert str(ei.value).startswith("6301 query_order_info: the answer's signature does not verify: "
                                    "the center's public key in the credentials is probably wrong")
    assert not isinstance(ei.value, mp.OutcomeUnknown)
    sup.assert_declared(ei.value)


def test_signature_errors_are_not_retried(connect, center):
    center.enqueue("query_order_info", cs.wrong_key(), cs.ok())
    with pytest.raises(mp.SignatureError):
        connect(retries=3).query_order(cs.query_request())
    assert center.count("query_order_info") == 1


@pytest.mark.parametrize("body", [b"<html>gateway says hi</html>", b"[1, 2]"], ids=["html", "array"])
def test_a_body_that_is_not_an_envelope_raises_envelope_error(connect, center, body):
    center.enqueue("query_order_info", cs.raw(body))
    with pytest.raises(mp.EnvelopeError) as ei:
        connect().query_order(cs.query_request())
    assert "probably a gateway or proxy answered" in str(ei.value)


# -- unsigned answers ----------------------------------------------------------------------


@pytest.mark.parametrize("forgery", [sup.signature_stripped(), cs.unsigned_success()], ids=["stripped", "bare"])
def test_an_unsigned_success_is_never_trusted(connect, center, forgery):
    center.enqueue("query_order_info", forgery)
    with pytest.raises((mp.SignatureError, mp.EnvelopeError)) as ei:
        connect().query_order(cs.query_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)


def test_an_unsigned_success_with_a_complete_envelope_is_a_signature_error(connect, center):
    center.enqueue("query_order_info", sup.signature_stripped())
    with pytest.raises(mp.SignatureError) as ei:
        connect().query_order(cs.query_request())
    assert "never taken as success" in str(ei.value)


def test_an_unsigned_success_to_a_payment_leaves_its_outcome_unknown(connect, center):
    center.enqueue("pay_order", sup.signature_stripped())
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect().pay_order(cs.pay_order_request())
    assert type(ei.value.failure) is mp.SignatureError
    assert center.count("pay_order") == 1


@needs_bare_refusals
@pytest.mark.parametrize("method,endpoint,make_request", [c[:3] for c in CALLS], ids=[c[0] for c in CALLS])
def test_an_unsigned_refusal_is_one_thing_neither_a_business_error_nor_outcome_unknown(
    connect, center, method, endpoint, make_request
):
    center.enqueue(endpoint, cs.business_error(-1, "appId不存在", signed=False))
    with pytest.raises(UnsignedRefusal) as ei:
        getattr(connect(), method)(make_request())
    err = ei.value
    assert type(err) is UnsignedRefusal
    assert not isinstance(err, (mp.BusinessError, mp.OutcomeUnknown))
    assert (err.code, err.message) == (-1, "appId不存在")
    assert err.request is not None and err.response["code"] == -1
    text = str(err)
    assert "refused without signing" in text and "appId" in text
    assert "not proof the request was not processed" in text and "query the order (6301)" in text
    assert text.index("refused without signing") < text.index("query the order")
    sup.assert_declared(err)
    sup.assert_no_personal_data(text, repr(err))
    assert center.count(endpoint) == 1


@needs_bare_refusals
def test_an_unknown_app_id_gets_the_centers_unsigned_refusal(connect, center):
    stranger = mp.Credentials("UNKNOWNAPPID00000000000000000000", cs.APP_SECRET, center.inst_key,
                              center.center_key.public_key())
    with pytest.raises(UnsignedRefusal) as ei:
        connect(credentials=stranger).pay_order(cs.pay_order_request())
    assert ei.value.code == 401
    assert center.received == [] and len(center.errors) == 1


@needs_bare_refusals
def test_a_request_signed_with_the_wrong_key_gets_the_centers_unsigned_refusal(connect, center):
    creds = mp.Credentials(center.app_id, cs.APP_SECRET, mp.SM2PrivateKey.generate(), center.center_key.public_key())
    with pytest.raises(UnsignedRefusal) as ei:
        connect(credentials=creds).query_order(cs.query_request())
    assert ei.value.code == 401
    assert center.received == [] and len(center.errors) == 1


@needs_bare_refusals
def test_an_unsigned_answer_with_code_zero_and_no_data_is_not_success(connect, center):
    center.enqueue("revoke_order", cs.raw(b'{"code": 0, "message": "ok", "success": true}'))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect().revoke_upload(cs.revoke_request())
    assert type(ei.value.failure) in (mp.SignatureError, mp.EnvelopeError)


# -- a wrong appSecret -------------------------------------------------------------------------


def test_a_wrong_app_secret_on_a_query_says_so_first_and_says_to_fix_the_credentials(connect, center):
    center.enqueue("query_order_info", sup.sealed_with_other_secret())
    with pytest.raises(mp.DecryptError) as ei:
        connect().query_order(cs.query_request())
    text = str(ei.value)
    assert text.startswith("6301 query_order_info: the answer does not decrypt: "
                           "the appSecret (or appId) is probably wrong")
    assert "Fix the credentials" in text
    assert "query the order" not in text  # a query with the same secret cannot work
    assert cs.APP_SECRET not in text and sup.OTHER_SECRET not in text
    sup.assert_declared(ei.value)


@pytest.mark.parametrize("method,endpoint,make_request", PAYMENTS, ids=[c[0] for c in PAYMENTS])
def test_a_wrong_app_secret_on_a_payment_says_so_before_saying_to_query(connect, center, method, endpoint,
                                                                        make_request):
    center.enqueue(endpoint, sup.sealed_with_other_secret())
    with pytest.raises(mp.OutcomeUnknown) as ei:
        getattr(connect(), method)(make_request())
    err = ei.value
    assert type(err.failure) is mp.DecryptError and err.__cause__ is err.failure
    text = str(err)
    assert "the appSecret (or appId) is probably wrong" in text
    assert text.index("appSecret") < text.index("fix the credentials, then query the order (6301)")
    assert "cannot be read either" in text
    assert "PKCS#7" not in text.split("(")[0]  # the cipher's words are not the first thing said
    sup.assert_declared(err)


@needs_center_code
@pytest.mark.parametrize("method,make_request", [("query_order", cs.query_request), ("pay_order", cs.pay_order_request)])
def test_a_wrong_app_secret_shows_the_centers_readable_refusal_code(connect, center, method, make_request):
    endpoint = "query_order_info" if method == "query_order" else "pay_order"
    center.enqueue(endpoint, sup.sealed_with_other_secret(1004, "解密失败"))
    with pytest.raises((mp.DecryptError, mp.OutcomeUnknown)) as ei:
        getattr(connect(), method)(make_request())
    decrypt = ei.value if isinstance(ei.value, mp.DecryptError) else ei.value.failure
    assert isinstance(decrypt, mp.DecryptError)
    assert (decrypt.center_code, decrypt.center_message) == (1004, "解密失败")
    assert "(the center answered code 1004, 解密失败)" in str(ei.value)


# -- transport failures and retries -------------------------------------------------------


def test_http_500_on_a_query_is_retried_until_it_succeeds(connect, center):
    center.enqueue("query_order_info", cs.status(500), cs.status(503))
    assert connect(retries=2).query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 3


def test_http_500_on_a_query_after_all_retries_is_a_transport_error(connect, center):
    center.set_default("query_order_info", cs.status(500))
    with pytest.raises(mp.TransportError) as ei:
        connect(retries=2).query_order(cs.query_request())
    err = ei.value
    assert err.status_code == 500 and err.body == "<html>Internal Server Error</html>"
    assert str(err).startswith("6301 query_order_info: HTTP 500 from the center")
    assert str(err).endswith("Gave up after 3 attempt(s); 6301 is safe to send again later.")
    sup.assert_declared(err)
    assert center.count("query_order_info") == 3


def test_http_400_on_a_query_is_not_retried(connect, center):
    center.enqueue("query_order_info", cs.status(400, b"bad request"))
    with pytest.raises(mp.TransportError) as ei:
        connect(retries=2).query_order(cs.query_request())
    assert ei.value.status_code == 400 and ei.value.body == "bad request"
    assert center.count("query_order_info") == 1


@pytest.mark.parametrize("method,endpoint,make_request", NOT_RETRY_SAFE, ids=[c[0] for c in NOT_RETRY_SAFE])
def test_http_500_on_a_call_that_is_not_retry_safe_is_outcome_unknown_and_not_reposted(
    connect, center, method, endpoint, make_request
):
    center.set_default(endpoint, cs.status(500))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        getattr(connect(retries=3), method)(make_request())
    err = ei.value
    assert type(err) is mp.OutcomeUnknown
    assert isinstance(err.failure, mp.TransportError) and err.failure.status_code == 500
    assert err.__cause__ is err.failure
    assert err.request is not None
    assert "do not send it again" in str(err)
    sup.assert_declared(err)
    sup.assert_no_personal_data(str(err), repr(err))
    assert center.count(endpoint) == 1


def test_http_404_on_a_payment_is_a_transport_error_not_an_unknown_outcome(connect, center):
    with pytest.raises(mp.TransportError) as ei:
        connect(center.url + "/wrong-prefix").pay_order(cs.pay_order_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)
    assert ei.value.status_code == 404 and "wrong base_url" in str(ei.value)
    assert str(ei.value).endswith("It was not carried out: fix the cause, then send it again.")


@pytest.mark.parametrize("method,endpoint,make_request", PAYMENTS, ids=[c[0] for c in PAYMENTS])
def test_a_payment_that_times_out_is_outcome_unknown_and_not_reposted(connect, center, method, endpoint,
                                                                      make_request):
    center.enqueue(endpoint, cs.slow(60))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        getattr(connect(timeout=1.0, retries=3), method)(make_request())
    err = ei.value
    assert isinstance(err.failure, mp.TransportError) and err.failure.status_code is None
    assert isinstance(err.failure.__cause__, (TimeoutError, httpx.TimeoutException))
    assert "ReadTimeout" in str(err.failure)
    assert err.request is not None
    assert center.count(endpoint) == 1


@pytest.mark.parametrize("method,endpoint,make_request", PAYMENTS, ids=[c[0] for c in PAYMENTS])
def test_a_payment_whose_connection_drops_is_outcome_unknown_and_not_reposted(connect, center, method, endpoint,
                                                                              make_request):
    center.enqueue(endpoint, cs.drop())
    with pytest.raises(mp.OutcomeUnknown):
        getattr(connect(retries=3), method)(make_request())
    assert center.count(endpoint) == 1


def test_a_query_that_times_out_is_retried(connect, center):
    center.enqueue("query_order_info", cs.slow(60))
    assert connect(timeout=1.0, retries=2).query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 2


def test_a_query_whose_connection_drops_is_retried(connect, center):
    center.enqueue("query_order_info", cs.drop(), cs.drop())
    assert connect(retries=2).query_order(cs.query_request()).ord_stas == "6"
    assert center.count("query_order_info") == 3


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_refused_connection_is_a_transport_error_even_for_a_payment(connect):
    # Nothing was sent, so the outcome is known: nothing happened.
    client = connect(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(mp.TransportError) as ei:
        client.pay_order(cs.pay_order_request())
    err = ei.value
    assert not isinstance(err, mp.OutcomeUnknown)
    assert err.status_code is None and err.body is None  # declared, so readable without an answer
    assert "Nothing was sent" in str(err)
    sup.assert_declared(err)
    with pytest.raises(mp.TransportError):
        client.query_order(cs.query_request())


def test_an_oversized_answer_is_refused(connect, center):
    center.enqueue("pay_order", cs.raw(b"{" + b" " * 5000 + b"}"))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect(max_response_bytes=1000).pay_order(cs.pay_order_request())
    assert isinstance(ei.value.failure, mp.EnvelopeError)
    assert "larger than 1000 bytes" in str(ei.value.failure) and "larger than 1000 bytes" in str(ei.value)


# -- untrustworthy answers to calls that are not retry-safe -----------------------------------


@pytest.mark.parametrize(
    "behaviour,failure",
    [
        (cs.wrong_key(), mp.SignatureError),
        (sup.signature_stripped(), mp.SignatureError),
        (cs.raw(b"<html>proxy error</html>"), mp.EnvelopeError),
        (sup.sealed_with_other_secret(), mp.DecryptError),
    ],
    ids=["bad-signature", "unsigned-success", "not-json", "wrong-secret"],
)
def test_an_untrustworthy_answer_to_a_payment_is_outcome_unknown_carrying_the_failure(connect, center, behaviour,
                                                                                      failure):
    center.enqueue("pay_order", behaviour)
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect().pay_order(cs.pay_order_request())
    err = ei.value
    assert type(err) is mp.OutcomeUnknown  # one class per situation, none made on the fly
    assert type(err.failure) is failure and not isinstance(err, failure)
    assert isinstance(err.request, models.PayOrderRequest)
    sup.assert_declared(err)
    sup.assert_declared(err.failure)
    assert center.count("pay_order") == 1


def test_a_signed_refusal_of_a_payment_is_a_definite_business_error(connect, center):
    center.enqueue("pay_order", cs.business_error(30001, "余额不足"))
    with pytest.raises(mp.BusinessError) as ei:
        connect().pay_order(cs.pay_order_request())
    assert not isinstance(ei.value, mp.OutcomeUnknown)
    assert "definite refusal" in str(ei.value)


def test_an_outcome_unknown_survives_a_pickle_round_trip_with_its_request_and_failure(connect, center):
    center.enqueue("pay_order", cs.status(502))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect().pay_order(cs.pay_order_request())
    back = pickle.loads(pickle.dumps(ei.value))
    assert str(back) == str(ei.value)
    assert back.request == ei.value.request
    assert isinstance(back.failure, mp.TransportError) and back.failure.status_code == 502


# -- waiting for settlement ---------------------------------------------------------------


def test_wait_for_settlement_polls_until_the_order_is_final(connect, center):
    pending = cs.ok(cs.query_response("ORD000000000000000001", "2"))
    center.enqueue("query_order_info", pending, pending)
    final = connect().wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert type(final) is models.QueryOrderResponse and final.ord_stas == "6"
    assert center.count("query_order_info") == 3


def test_wait_for_settlement_on_an_order_the_patient_has_not_paid_is_settlement_pending(connect, center):
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", "0")))
    with pytest.raises(mp.SettlementPending) as ei:
        connect().wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    err = ei.value
    assert type(err) is mp.SettlementPending and not isinstance(err, mp.OutcomeUnknown)
    assert (err.ord_stas, err.label) == ("0", "已保存")
    assert "still in state 0 (已保存)" in str(err) and "has not paid" in str(err)
    assert isinstance(err.request, models.QueryOrderRequest)
    sup.assert_declared(err)
    sup.assert_no_personal_data(str(err), repr(err))


@pytest.mark.parametrize("state,label", [("2", "待支付（结算中）"), ("17", "退款中"), ("99", "未知状态")])
def test_wait_for_settlement_on_an_order_not_final_says_its_state(connect, center, state, label):
    # 0-5 (not paid or not settled yet) and values this version does not know are not
    # final; at the deadline the state is known, so the error is not OutcomeUnknown.
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", state)))
    with pytest.raises(mp.SettlementPending) as ei:
        connect().wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    err = ei.value
    assert (err.ord_stas, err.label, err.last_response.ord_stas) == (state, label, state)
    assert f"still in state {state} ({label})" in str(err)


def test_wait_for_settlement_with_no_answer_at_all_is_outcome_unknown(connect, center):
    center.set_default("query_order_info", cs.status(503))
    with pytest.raises(mp.OutcomeUnknown) as ei:
        connect(retries=0).wait_for_settlement(cs.query_request(), deadline=0.2, interval=0.02)
    err = ei.value
    assert "no answer" in str(err)
    assert isinstance(err.failure, mp.TransportError) and err.failure.status_code == 503
    assert err.__cause__ is err.failure
    sup.assert_declared(err)  # no .last_response added to it


def test_wait_for_settlement_rides_out_transport_failures(connect, center):
    center.enqueue("query_order_info", cs.status(503), cs.drop())
    final = connect(retries=0).wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert final.ord_stas == "6"


def test_wait_for_settlement_raises_business_errors_at_once(connect, center):
    center.set_default("query_order_info", cs.business_error(404, "订单不存在"))
    with pytest.raises(mp.BusinessError):
        connect().wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert center.count("query_order_info") == 1


@needs_bare_refusals
def test_wait_for_settlement_raises_an_unsigned_refusal_at_once(connect, center):
    center.set_default("query_order_info", cs.business_error(-1, "appId不存在", signed=False))
    with pytest.raises(UnsignedRefusal):
        connect().wait_for_settlement(cs.query_request(), deadline=30, interval=0.01)
    assert center.count("query_order_info") == 1


def test_wait_for_settlement_refuses_an_invalid_query_before_polling(connect, center):
    with pytest.raises(mp.ValidationError):
        connect().wait_for_settlement({"payOrdId": "ORD1"}, deadline=30, interval=0.01)
    with pytest.raises(ValueError):
        connect().wait_for_settlement(cs.query_request(), deadline=0, interval=0.01)
    assert center.received == []


def test_wait_for_settlement_takes_other_final_states(connect, center):
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", "2")))
    final = connect().wait_for_settlement(cs.query_request(), deadline=30, interval=0.01, final_states={"2"})
    assert final.ord_stas == "2" and center.count("query_order_info") == 1


# -- the ordStas dictionary ---------------------------------------------------------------


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


# -- the typed surface follows the table ------------------------------------------------------


@pytest.mark.parametrize("cls", [MedpayClient, AsyncMedpayClient])
def test_each_client_method_is_typed_with_its_transactions_models(cls):
    for t in models.TRANSACTIONS.values():
        if t.method is None:
            continue
        hints = typing.get_type_hints(getattr(cls, t.method))
        assert hints["return"] is t.response, t.code
        assert hints["request"] == typing.Union[t.request, typing.Mapping[str, typing.Any]], t.code
    hints = typing.get_type_hints(cls.wait_for_settlement)
    assert hints["return"] is models.QueryOrderResponse
    sent = {t.method for t in models.TRANSACTIONS.values() if t.method}
    assert typing.get_args(client_module.TransactionCode) == tuple(
        sorted(c for c, t in models.TRANSACTIONS.items() if t.method))
    assert sent <= set(dir(cls))


# -- hygiene -------------------------------------------------------------------------------


def test_the_client_logs_no_secret_nor_personal_data(connect, center, caplog):
    caplog.set_level(logging.DEBUG)
    center.enqueue("query_order_info", cs.status(500))
    client = connect()
    client.query_order(cs.query_request())
    text = caplog.text + repr(client) + repr(client.codec.credentials)
    assert "retry 1/2" in caplog.text
    assert cs.APP_SECRET not in text
    assert center.inst_key.to_hex() not in text
    sup.assert_no_personal_data(text)


def test_the_context_manager_closes_the_transport(center):
    closed = []

    class Recording(mp.HttpTransport):
        def close(self):
            closed.append(True)
            super().close()

    with MedpayClient(center.url, center.inst_credentials, transport=Recording()) as client:
        client.query_order(cs.query_request())
        view = client.with_options(timeout=5)
        view.close()  # a view does not own the pool
        assert closed == []
    assert closed == [True]


def test_new_ids_are_unique_and_within_the_spec_length():
    ids = {new_org_biz_ser() for _ in range(2000)} | {new_app_refd_sn("RF") for _ in range(2000)}
    assert len(ids) == 4000
    assert all(len(i) <= 40 and i.isalnum() for i in ids)
    with pytest.raises(ValueError):
        new_org_biz_ser("X" * 10)


# -- async, natively -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_client_runs_calls_concurrently_in_a_running_loop(center):
    async with AsyncMedpayClient(center.url, center.inst_credentials, timeout=10) as client:
        paid, final = await asyncio.gather(client.pay_order(cs.pay_order_request()),
                                           client.query_order(cs.query_request()))
    assert paid.ord_stas == "2" and final.ord_stas == "6"


@pytest.mark.asyncio
async def test_async_wait_for_settlement_can_be_cancelled(center):
    center.set_default("query_order_info", cs.ok(cs.query_response("ORD000000000000000001", "0")))
    async with AsyncMedpayClient(center.url, center.inst_credentials, timeout=10) as client:
        task = asyncio.ensure_future(client.wait_for_settlement(cs.query_request(), deadline=600, interval=0.01))
        while center.count("query_order_info") < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_async_client_runs_under_trio(center):
    trio = pytest.importorskip("trio")

    async def main():
        async with AsyncMedpayClient(center.url, center.inst_credentials, timeout=10, backoff=0.01) as client:
            center.enqueue("query_order_info", cs.status(503))
            return await client.query_order(cs.query_request())

    assert trio.run(main).ord_stas == "6"
    assert center.count("query_order_info") == 2


# -- docs ------------------------------------------------------------------------------------


def test_the_retry_table_in_docs_client_md_is_the_transaction_table():
    import pathlib

    text = (pathlib.Path(__file__).parent.parent / "docs" / "en" / "client.md").read_text(encoding="utf-8")
    section = text.split("## Retries and sending once", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            rows[cells[0]] = (cells[1], cells[2], cells[3] == "yes")
    expected = {c: (t.path, t.method, t.retry_safe) for c, t in models.TRANSACTIONS.items() if t.method}
    assert rows == expected
