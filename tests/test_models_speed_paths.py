"""The models' fast paths (a plain value within its limits skips the full checks) give
what the full checks give: the same values, the same errors."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

import medpay_core.models as m
from medpay_core.errors import ValidationError
from medpay_core.models._base import compact_json

from model_examples import CASHIER, FEE_UPLOAD, LINE_1, QUERY, QUERY_RESPONSE, fails


def test_a_request_amount_keeps_its_literal_or_is_refused_as_before():
    ok = m.validate(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("0.50")})
    assert str(ok.fulamt_ownpay_amt) == "0.50"
    assert m.validate(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("1E+2")}
                      ).to_wire()["fulamtOwnpayAmt"].as_tuple().exponent == 0
    assert fails(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("0.500")}) == {
        ("fulamtOwnpayAmt", "decimal_places")}
    assert fails(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("999999999999999")}) == {
        ("fulamtOwnpayAmt", "integer_digits")}
    assert fails(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": "1.5e1"}) == {
        ("fulamtOwnpayAmt", "type")}


def test_an_answer_amount_keeps_its_literal():
    r = m.validate(m.QueryOrderResponse, {**QUERY_RESPONSE, "feeSumamt": Decimal("25.800"),
                                          "ownPayAmt": " 1.50 ", "fundPay": 0})
    assert (str(r.fee_sumamt), str(r.own_pay_amt), r.fund_pay) == ("25.800", "1.50", Decimal(0))


def test_a_deposit_of_minus_zero_is_not_negative_and_minus_one_cent_is():
    assert m.validate(m.CashierEncData, {**CASHIER, "deposit": Decimal("-0.00")}).deposit == 0
    assert fails(m.CashierEncData, {**CASHIER, "deposit": Decimal("-0.01")}) == {("deposit", "range")}


def test_the_digits_are_counted_whatever_the_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        ok = m.validate(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("99999999999999.99")})
        assert str(ok.fulamt_ownpay_amt) == "99999999999999.99"
        assert fails(m.FeeUploadRequest, {**FEE_UPLOAD, "fulamtOwnpayAmt": Decimal("999999999999999.9")}) == {
            ("fulamtOwnpayAmt", "integer_digits")}


def test_a_date_format_is_checked_every_time_though_valid_texts_are_remembered():
    good = {**LINE_1, "feeOcurTime": "2026-11-25 09:40:00"}
    for _ in range(2):
        assert m.validate(m.FeeDetail, good).fee_ocur_time == "2026-11-25 09:40:00"
        assert fails(m.FeeDetail, {**LINE_1, "feeOcurTime": "2026-02-30 09:40:00"}) == {("feeOcurTime", "format")}
        assert fails(m.FeeDetail, {**LINE_1, "feeOcurTime": "2026-11-25 09:40:00" + "0" * 50}) == {
            ("feeOcurTime", "format")}


@pytest.mark.parametrize("value, rules", [
    ("", {("idType", "required")}),
    (None, {("idType", "required")}),
    ("0123", {("idType", "max_length")}),
    (1, {("idType", "type")}),
])
def test_a_text_outside_the_fast_path_gets_the_same_errors(value, rules):
    assert fails(m.QueryOrderRequest, {**QUERY, "idType": value}) == rules


def test_a_str_subclass_and_an_answer_code_sent_as_a_number_come_out_as_str():
    class Code(str):
        pass

    r = m.validate(m.QueryOrderRequest, {**QUERY, "idType": Code("01")})
    assert type(r.id_type) is str
    assert m.validate(m.QueryOrderResponse, {**QUERY_RESPONSE, "callType": 2}).call_type == "2"


def test_both_names_for_one_field_are_still_compared():
    with pytest.raises(ValidationError) as e:
        m.validate(m.QueryOrderRequest, {**QUERY, "id_type": "02"})
    assert [x["rule"] for x in e.value.errors] == ["conflict"]
    assert m.validate(m.QueryOrderRequest, {**QUERY, "id_type": QUERY["idType"]}).id_type == QUERY["idType"]


def test_the_cross_field_rules_still_run_where_a_table_has_them():
    lines = [LINE_1, {**LINE_1, "detItemFeeSumamt": Decimal("1.00")}]
    with pytest.raises(ValidationError) as e:
        m.validate(m.FeeUploadRequest, {**FEE_UPLOAD, "feedetailList": lines})
    assert {x["rule"] for x in e.value.errors} >= {"sum_mismatch", "duplicate"}


def test_an_ext_object_given_as_text_goes_out_as_that_text_until_changed():
    text = '{"merchantNo": "M1", "terminalNo": "T1", "isvNo": "I1"}'
    r = m.validate(m.QueryOrderRequest, {**QUERY, "expContent": text})
    assert r.to_wire()["expContent"] == text and r.exp_content.to_wire()["merchantNo"] == "M1"
    r.exp_content.merchant_no = "M2"
    assert r.to_wire()["expContent"] == {"merchantNo": "M2", "terminalNo": "T1", "isvNo": "I1"}


def test_an_ext_object_is_measured_as_its_compact_json_text():
    big = {"merchantNo": "M1", "terminalNo": "T1", "isvNo": "I1"}
    room = 4000 - len(compact_json({**big, "k": ""}))
    assert m.validate(m.QueryOrderRequest, {**QUERY, "expContent": {**big, "k": "\n" * (room // 2)}})
    assert fails(m.QueryOrderRequest, {**QUERY, "expContent": {**big, "k": "\n" * (room // 2 + 1)}}) == {
        ("expContent", "max_length")}


def test_compact_json_writes_strings_as_json_dumps_does():
    assert compact_json({"名\n": 'a"\\\x01张'}) == '{"名\\n":"a\\"\\\\\\u0001张"}'
