"""medpay_core.errors: one module of declared, typed, picklable error classes."""

from __future__ import annotations

import inspect
import pickle
from decimal import Decimal

import pytest

import center_server as cs
import client_support as sup
import medpay_core as mp
from medpay_core import errors, models
from medpay_core.errors import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    InvalidVoucher,
    KeyFormatError,
    MedpayError,
    OutcomeUnknown,
    SettlementPending,
    SignatureError,
    StoreError,
    TransportError,
    UnknownAppIdError,
    UnsignedRefusal,
    ValidationError,
)

CLASSES = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)
           and issubclass(getattr(errors, n), BaseException)]

# The arguments each constructor takes by position; everything else is keyword-only.
POSITIONAL = {
    MedpayError: ["message"],
    KeyFormatError: ["message"],
    SignatureError: ["message"],
    DecryptError: ["message"],
    EnvelopeError: ["message"],
    ValidationError: ["errors"],
    TransportError: ["message"],
    BusinessError: ["code", "message"],
    UnsignedRefusal: ["code", "message"],
    OutcomeUnknown: ["message"],
    SettlementPending: ["message"],
    UnknownAppIdError: ["message"],
    InvalidVoucher: ["message"],
    StoreError: ["message"],
}


def query_model() -> models.QueryOrderRequest:
    return models.validate(models.QueryOrderRequest, cs.query_request())


def query_answer() -> models.QueryOrderResponse:
    return models.validate(models.QueryOrderResponse, cs.query_response("ORD1", "0"))


def every_error_with_its_attributes_set() -> list[MedpayError]:
    """One instance of every class, every attribute given a value that is not its default."""
    field_errors = [{"field": "payToken", "rule": "required", "message": "is required"}]
    answer = {"code": 0, "data": {"payOrdId": "ORD1"}, "signData": "ab"}
    return [
        MedpayError("something failed"),
        KeyFormatError("not an SM2 key"),
        SignatureError("signData does not verify"),
        DecryptError("bad padding: the appSecret is probably wrong", center_code=1004, center_message="解密失败"),
        EnvelopeError("the envelope has no timestamp", field="timestamp"),
        ValidationError(field_errors, model="PayOrderResponse", response=answer),
        TransportError("HTTP 503 from the center", status_code=503, body="<html>busy</html>"),
        BusinessError(30001, "余额不足", response=answer, transaction="6202"),
        UnsignedRefusal(-1, "appId不存在", response={"code": -1, "message": "appId不存在"},
                        request=query_model(), transaction="6301"),
        OutcomeUnknown("6202: no answer", request=query_model(),
                       failure=DecryptError("bad padding", center_code="E1", center_message="x")),
        SettlementPending("6301: still in state 0", ord_stas="0", label="已保存",
                          last_response=query_answer(), request=query_model()),
        UnknownAppIdError("no credentials for appId 'APP9'", app_id="APP9"),
        InvalidVoucher("the QR code has expired", reason="expired"),
        StoreError("center.db is in use by another sandbox", path="center.db", reason="in_use"),
    ]


def test_every_class_is_a_medpay_error_declared_in_this_module():
    assert set(CLASSES) == set(POSITIONAL)
    module_classes = {v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, BaseException)}
    assert module_classes == set(CLASSES)
    for cls in CLASSES:
        assert issubclass(cls, MedpayError) and cls.__module__ == "medpay_core.errors"
    for cls in (KeyFormatError, EnvelopeError, ValidationError):
        assert issubclass(cls, ValueError)  # kept: callers catch ValueError for bad input


def test_the_one_situation_classes_do_not_overlap():
    for a, b in [(UnsignedRefusal, BusinessError), (UnsignedRefusal, OutcomeUnknown),
                 (SettlementPending, OutcomeUnknown), (BusinessError, OutcomeUnknown)]:
        assert not issubclass(a, b) and not issubclass(b, a)


@pytest.mark.parametrize("err", every_error_with_its_attributes_set(), ids=lambda e: type(e).__name__)
def test_every_error_carries_only_declared_documented_attributes(err):
    sup.assert_declared(err)
    for name in sup.declared_attributes(type(err)):
        assert f"{name}:" in (type(err).__doc__ or ""), f"{type(err).__name__}.{name} is not documented"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_constructor_arguments_after_the_first_are_keyword_only(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == POSITIONAL[cls]
    keyword = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    assert set(keyword) <= sup.declared_attributes(cls)
    assert not [p for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def test_a_keyword_argument_given_by_position_is_refused():
    with pytest.raises(TypeError):
        EnvelopeError("the envelope has no timestamp", "timestamp")  # type: ignore[misc]
    with pytest.raises(TypeError):
        ValidationError([], "PayOrderRequest")  # type: ignore[misc]


@pytest.mark.parametrize("err", every_error_with_its_attributes_set(), ids=lambda e: type(e).__name__)
def test_every_error_survives_a_pickle_round_trip_with_its_attributes(err):
    err.add_note("from worker 3")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err) and back.args == err.args
    assert back.__notes__ == ["from worker 3"]
    declared = sup.declared_attributes(type(err))
    assert declared <= set(vars(back))
    for name in declared:
        mine, theirs = getattr(err, name), getattr(back, name)
        if isinstance(mine, BaseException):
            assert type(theirs) is type(mine) and vars(theirs) == vars(mine) and str(theirs) == str(mine)
        else:
            assert theirs == mine, name


def test_an_error_raised_by_the_native_module_is_one_of_these_classes_and_pickles():
    with pytest.raises(KeyFormatError) as ki:
        mp.SM2PublicKey.from_string("not a key")
    with pytest.raises(DecryptError) as di:
        mp.sm4_ecb_decrypt(b"k" * 16, b"x" * 15)
    for err in (ki.value, di.value):
        sup.assert_declared(err)
        assert str(pickle.loads(pickle.dumps(err))) == str(err)
    assert di.value.center_code is None and di.value.center_message is None


# -- the contract others rely on -----------------------------------------------------------


def test_the_contract_constructors():
    assert str(MedpayError("m")) == "m" and str(SignatureError("s")) == "s" and str(KeyFormatError("k")) == "k"
    e = EnvelopeError("no encData", field="encData")
    assert (str(e), e.field) == ("no encData", "encData") and EnvelopeError("x").field is None
    d = DecryptError("bad padding", center_code=-1, center_message="appId不存在")
    assert (d.center_code, d.center_message) == (-1, "appId不存在")
    assert DecryptError("x").center_code is None
    v = ValidationError([{"field": "a", "rule": "required", "message": "is required"}])
    assert v.errors == [{"field": "a", "rule": "required", "message": "is required"}]
    assert v.model is None and v.response is None


def test_validation_error_lists_every_field_and_keeps_a_copy_of_the_list():
    problems = [errors.FieldError(field="payToken", rule="required", message="is required"),
                errors.FieldError(field="idType", rule="max_length", message="at most 3 characters")]
    e = ValidationError(problems, model="QueryOrderRequest")
    problems.clear()
    assert str(e) == ("QueryOrderRequest: 2 invalid field(s): payToken: is required; "
                      "idType: at most 3 characters")
    assert [x["field"] for x in e.errors] == ["payToken", "idType"]


def test_validation_error_of_an_answer_says_the_center_accepted_the_request_first():
    answer = {"code": 0, "data": {"payOrdId": "ORD1"}}
    e = ValidationError([{"field": "ordStas", "rule": "required", "message": "is required"}],
                        model="PayOrderResponse", response=answer)
    text = str(e)
    assert text.startswith("the center accepted the request (signed answer, code 0)")
    assert "PayOrderResponse" in text and "ordStas: is required" in text and "Do not send the request again" in text
    assert e.response is answer


def test_business_error_says_the_refusal_is_definite_and_what_to_do():
    e = BusinessError(30001, "余额不足", transaction="6202")
    assert str(e) == ("6202: the center refused the request: code 30001, 余额不足. The answer is signed, so "
                      "this is the center's definite refusal: act on its message before sending a new request")
    assert str(BusinessError(7, None)).startswith("the center refused the request: code 7. ")


def test_unsigned_refusal_says_refused_unsigned_likely_credentials_and_query_first():
    e = UnsignedRefusal(-1, "appId不存在", transaction="6202")
    text = str(e)
    order = [text.index(s) for s in ("refused without signing", "not verified", "wrong appId or credentials",
                                     "not proof the request was not processed", "query the order (6301)")]
    assert order == sorted(order)
    assert text.startswith("6202: ")


def test_the_errors_hold_no_personal_data_in_their_text_or_repr():
    for err in every_error_with_its_attributes_set():
        sup.assert_no_personal_data(str(err), repr(err))


def test_amounts_in_an_answer_kept_by_an_error_stay_decimals_through_pickle():
    e = BusinessError(1, "x", response={"data": {"feeSumamt": Decimal("100.00")}})
    back = pickle.loads(pickle.dumps(e))
    assert str(back.response["data"]["feeSumamt"]) == "100.00"
