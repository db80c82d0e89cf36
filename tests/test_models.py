"""The typed models of the spec's tables (medpay_core.models): the contract other modules
code against, a valid example of every table with its round trip, and the shared
behaviour (names, unknown fields, errors). The rules of each table are in
test_models_rules.py."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import pickle
import re
from decimal import Decimal

import pydantic
import pytest

import medpay_core.models as m
from medpay_core.errors import MedpayError, ValidationError

# --------------------------------------------------------------------------- examples
# One valid wire ``data`` per table, with realistic values (a Fuzhou outpatient visit).

VOUCHER_REQUEST = {
    "orgId": "H35010200001", "businessType": "01101", "businessInfo": "门诊缴费",
    "operatorId": "0001", "operatorName": "收费员王五", "officeId": "0101",
    "officeName": "门诊收费处", "deviceType": "SelfService",
}
VOUCHER_RESPONSE = {
    "userName": "张三", "idNo": "350181199011193519", "idType": "01",
    "ecToken": "350100ec5f3e6c1d2b4a8f9e0d7c6b5a4f3e2d1c", "insuOrg": "350100",
    "authNo": "AUTH3501002026112500001", "ecIndexNo": "EI0001", "gender": "1",
    "birthday": "1990-11-19", "nationality": "CHN", "email": "zhangsan@example.cn",
}
UNIONPAY = {"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV350100001"}
DISE = {
    "diagType": "1", "diagSrtNo": 1, "diagCode": "J06.900", "diagName": "急性上呼吸道感染",
    "diagDept": "内科", "diseDorNo": "D35010200001", "diseDorName": "李医生",
    "diagTime": "2026-11-25 09:30:00", "valiFlag": "1",
}
LINE_1 = {
    "feedetlSn": "FD2026112500001", "mdtrtId": "MD35010020261125001", "psnNo": "35000000000000000001",
    "chrgBchno": "CB2026112500001", "diseCodg": "J06.900", "rxno": "RX2026112500001",
    "rxCircFlag": "0", "feeOcurTime": "2026-11-25 09:40:00",
    "medListCodg": "XJ01CRA040A001010104384", "medinsListCodg": "YP000123",
    "detItemFeeSumamt": Decimal("25.80"), "cnt": Decimal("2.0000"), "pric": Decimal("12.900000"),
    "sinDosDscr": "0.5g", "usedFrquDscr": "一日三次", "prdDays": Decimal("3.00"),
    "medcWayDscr": "口服", "bilgDeptCodg": "0101", "bilgDeptName": "内科",
    "bilgDrCodg": "D35010200001", "bilgDrName": "李医生", "hospApprFlag": "1",
    "medType": "11", "medListName": "阿莫西林胶囊", "medListSpc": "0.25g*24粒",
}
LINE_2 = {
    **LINE_1, "feedetlSn": "FD2026112500002", "rxno": "RX2026112500002",
    "medListCodg": "XR05DAF041A001010101445", "medinsListCodg": "YP000456",
    "detItemFeeSumamt": Decimal("23.80"), "cnt": Decimal("1"), "pric": Decimal("23.8"),
    "medListName": "复方甘草片", "medListSpc": "100片",
}
FEE_UPLOAD = {
    "orgCodg": "H35010200001", "orgId": "EC35010200001", "psnNo": "35000000000000000001",
    "insutype": "310", "medOrgOrd": "MO2026112500001", "rxCircFlag": "0",
    "begntime": "2026-11-25 09:00:00", "idNo": "350181199011193519", "userName": "张三",
    "idType": "01", "ecToken": "350100ec5f3e6c1d2b4a8f9e0d7c6b5a4f3e2d1c", "insuCode": "350100",
    "iptOtpNo": "MZ2026112500001", "atddrNo": "D35010200001", "drName": "李医生",
    "deptCode": "0101", "deptName": "内科", "caty": "A03", "mdtrtId": "MD35010020261125001",
    "medType": "11", "feeType": "01", "medfeeSumamt": Decimal("49.60"), "acctUsedFlag": "1",
    "mainCondDscr": "咳嗽三天", "diseCodg": "J06.900", "diseName": "急性上呼吸道感染",
    "psnSetlway": "01", "chrgBchno": "CB2026112500001", "pubHospRfomFlag": "1",
    "invono": "FP00012345", "expContent": UNIONPAY, "diseinfoList": [DISE],
    "feedetailList": [LINE_1, LINE_2], "payAuthNo": "AUTH3501002026112500001",
    "uldLatlnt": "119.296494,26.074508", "mdtrtCertType": "01", "insuplcAdmdvs": "350100",
}
FEE_UPLOAD_RESPONSE = {
    "payOrdId": "ORD3501002026112500001", "payToken": "ORD3501002026112500001TK",
    "cashierUrl": "https://mpc.example.cn/h5/#/cashier?payOrdId=ORD3501002026112500001",
    "extData": {"setlId": "S35010020261125001"},
}
PAY_ORDER = {
    "payAuthNo": "AUTH3501002026112500001", "payOrdId": "ORD3501002026112500001",
    "payToken": "ORD3501002026112500001TK", "orgCodg": "H35010200001",
    "orgBizSer": "BIZ2026112500001", "chrgBchno": "CB2026112500001", "feeType": "01",
    "mdtrtId": "MD35010020261125001", "deposit": Decimal("0.00"), "expContent": UNIONPAY,
    "acctUsedFlag": "1",
}
PAY_ORDER_RESPONSE = {
    "payOrdId": "ORD3501002026112500001", "ordStas": "6", "feeSumamt": Decimal("49.60"),
    "ownPayAmt": Decimal("9.60"), "psnAcctPay": Decimal("20.00"), "fundPay": Decimal("20.00"),
    "deposit": Decimal("0.00"), "extData": {"setlId": "S1"}, "othFeeAmt": Decimal("0.00"),
}
REFUND = {
    "payOrdId": "ORD3501002026112500001", "appRefdSn": "RF2026112500001",
    "appRefdTime": "20261125103000", "totlRefdAmt": Decimal("49.60"),
    "psnAcctRefdAmt": Decimal("20.00"), "fundRefdAmt": Decimal("20.00"),
    "cashRefdAmt": Decimal("9.60"), "ecToken": "350100ec5f3e6c1d2b4a8f9e0d7c6b5a4f3e2d1c",
    "refdType": "ALL", "expContent": UNIONPAY, "payAuthNo": "AUTH3501002026112500001",
}
REFUND_RESPONSE = {
    "refdSn": "RS3501002026112500001", "hiFefdSn": "HF3501002026112500001",
    "hiTrnsDate": "20261125", "hiTrnsTime": "103005", "refStatus": "SUCC",
    "extData": {"note": "ok"},
}
ORDER_SYNC = {
    "payOrdId": "ORD3501002026112500001", "medOrgOrd": "MO2026112500001",
    "feeSumamt": Decimal("49.60"), "ownPayAmt": Decimal("9.60"), "psnAcctPay": Decimal("20.00"),
    "fundPay": Decimal("20.00"), "othFeeAmt": Decimal("0.00"), "deposit": Decimal("0.00"),
    "extData": UNIONPAY,
}
BANK_PAY = {
    "payAuthNo": "AUTH3501002026112500001", "payOrdId": "ORD3501002026112500001",
    "payToken": "ORD3501002026112500001TK", "orgCodg": "H35010200001",
    "orgBizSer": "BIZ2026112500002", "expContent": UNIONPAY,
}
BANK_PAY_RESPONSE = {
    "medBankPayUrl": "https://bank.example.cn/mix/pay?ord=ORD3501002026112500001",
    "extData": {"bank": "ICBC"},
}
QUERY = {
    "payOrdId": "ORD3501002026112500001", "orgCodg": "H35010200001",
    "payToken": "ORD3501002026112500001TK", "idNo": "350181199011193519", "userName": "张三",
    "idType": "01", "expContent": UNIONPAY,
}
QUERY_RESPONSE = {
    "ordStas": "6", "payOrdId": "ORD3501002026112500001", "callType": "02",
    "medOrgOrd": "MO2026112500001", "traceTime": "2026-11-25 10:00:05",
    "orgCodg": "H35010200001", "orgName": "福州市第一医院", "setlType": "ALL",
    "feeSumamt": Decimal("49.60"), "ownPayAmt": Decimal("9.60"), "psnAcctPay": Decimal("20.00"),
    "fundPay": Decimal("20.00"), "revsToken": "RV3501002026112500001",
    "extData": {"psnPaySn": "PS3501002026112500001"}, "deposit": Decimal("0.00"),
    "hiChrgTime": "100005", "hiDocSn": "HD3501002026112500001", "hiRgstSn": "HR3501002026112500001",
    "ecCode": "EC-CODE-0001",
}
SETTLEMENT = {
    "payOrdId": "ORD3501002026112500001", "callType": "02", "medOrgOrd": "MO2026112500001",
    "traceTime": "2026-11-25 10:00:05", "feeSumamt": Decimal("49.60"), "ownpayAmt": Decimal("9.60"),
    "psnAcctPay": Decimal("20.00"), "fundPay": Decimal("20.00"), "hiChrgTime": "100005",
    "hiDocSn": "HD3501002026112500001", "hiRgstSn": "HR3501002026112500001",
    "orgName": "福州市第一医院", "ecCode": "EC-CODE-0001", "setlType": "ALL",
    "revsToken": "RV3501002026112500001", "extData": {"psnPaySn": "PS3501002026112500001"},
    "orgCodg": "H35010200001", "deposit": Decimal("0.00"),
}
SETTLEMENT_REPLY = {"success": True, "message": "院内处理回调成功"}
REVOKE = {
    "payOrdId": "ORD3501002026112500001", "orgCodg": "H35010200001",
    "payToken": "ORD3501002026112500001TK", "idNo": "350181199011193519", "userName": "张三",
    "idType": "01", "expContent": UNIONPAY,
}
REVOKE_RESPONSE = {"success": True}
CASHIER = {"payAuthNo": "AUTH3501002026112500001", "deposit": Decimal("123.45")}

EXAMPLES = {
    m.VoucherDecodeRequest: VOUCHER_REQUEST,
    m.VoucherDecodeResponse: VOUCHER_RESPONSE,
    m.FeeUploadRequest: FEE_UPLOAD,
    m.FeeUploadExpContent: UNIONPAY,
    m.DiseInfo: DISE,
    m.FeeDetail: LINE_1,
    m.FeeUploadResponse: FEE_UPLOAD_RESPONSE,
    m.CashierEncData: CASHIER,
    m.PayOrderRequest: PAY_ORDER,
    m.PayOrderExpContent: UNIONPAY,
    m.PayOrderResponse: PAY_ORDER_RESPONSE,
    m.RefundRequest: REFUND,
    m.RefundExpContent: UNIONPAY,
    m.RefundResponse: REFUND_RESPONSE,
    m.OrderSyncNotice: ORDER_SYNC,
    m.OrderSyncExtData: UNIONPAY,
    m.BankCardPayRequest: BANK_PAY,
    m.BankCardPayExpContent: UNIONPAY,
    m.BankCardPayResponse: BANK_PAY_RESPONSE,
    m.QueryOrderRequest: QUERY,
    m.QueryOrderExpContent: UNIONPAY,
    m.QueryOrderResponse: QUERY_RESPONSE,
    m.QueryOrderExtData: {"psnPaySn": "PS3501002026112500001"},
    m.SettlementNotice: SETTLEMENT,
    m.SettlementExtData: {"psnPaySn": "PS3501002026112500001"},
    m.SettlementNoticeReply: SETTLEMENT_REPLY,
    m.RevokeRequest: REVOKE,
    m.RevokeExpContent: UNIONPAY,
    m.RevokeResponse: REVOKE_RESPONSE,
}

# The wire names of each table, in the spec's order (section 2.3).
TABLE_FIELDS = {
    m.VoucherDecodeRequest: "orgId businessType businessInfo operatorId operatorName officeId "
                            "officeName deviceType",
    m.VoucherDecodeResponse: "userName idNo idType ecToken insuOrg authNo ecIndexNo gender birthday "
                             "nationality email",
    m.FeeUploadRequest: "orgCodg orgId psnNo insutype medOrgOrd initRxOrd rxCircFlag begntime idNo "
                        "userName idType ecToken insuCode iptOtpNo atddrNo drName deptCode deptName "
                        "caty mdtrtId medType feeType medfeeSumamt acctUsedFlag mainCondDscr diseCodg "
                        "diseName psnSetlway chrgBchno pubHospRfomFlag invono endtime fulamtOwnpayAmt "
                        "overlmtSelfpay preselfpayAmt inscpScpAmt oprnOprtCode oprnOprtName fpscNo "
                        "latechbFlag gesoVal fetts fetusCnt pretFlag birctrlType birctrlMatnDate "
                        "copFlag dscgDeptCodg dscgDeptName dscgDed dscgWay dieDate matnType expContent "
                        "midSetlFlag diseinfoList feedetailList admDiagDscr admDeptCodg admDeptName "
                        "admBed payAuthNo uldLatlnt mdtrtCertType insuplcAdmdvs",
    m.FeeUploadExpContent: "merchantNo terminalNo isvNo",
    m.DiseInfo: "diagType diagSrtNo diagCode diagName diagDept diseDorNo diseDorName diagTime valiFlag",
    m.FeeDetail: "feedetlSn mdtrtId psnNo chrgBchno diseCodg rxno rxCircFlag feeOcurTime medListCodg "
                 "medinsListCodg detItemFeeSumamt cnt pric sinDosDscr usedFrquDscr prdDays "
                 "medcWayDscr bilgDeptCodg bilgDeptName bilgDrCodg bilgDrName acordDeptCodg "
                 "acordDeptName ordersDrCode ordersDrName hospApprFlag tcmdrugUsedWay etipFlag "
                 "etipHospCode dscgTkdrugFlag matnFeeFlag initFeedetlSn drordNo medType memo "
                 "expContent medListName medListSpc combNo",
    m.FeeUploadResponse: "payOrdId payToken cashierUrl extData",
    m.CashierEncData: "payAuthNo deposit",
    m.PayOrderRequest: "payAuthNo payOrdId payToken orgCodg orgBizSer chrgBchno feeType mdtrtId "
                       "deposit expContent acctUsedFlag",
    m.PayOrderExpContent: "merchantNo terminalNo isvNo",
    m.PayOrderResponse: "payOrdId ordStas feeSumamt ownPayAmt psnAcctPay fundPay deposit extData "
                        "othFeeAmt",
    m.RefundRequest: "payOrdId appRefdSn appRefdTime totlRefdAmt psnAcctRefdAmt fundRefdAmt "
                     "cashRefdAmt ecToken refdType expContent payAuthNo",
    m.RefundExpContent: "merchantNo terminalNo isvNo",
    m.RefundResponse: "refdSn hiFefdSn hiTrnsDate hiTrnsTime refStatus extData",
    m.OrderSyncNotice: "payOrdId medOrgOrd feeSumamt ownPayAmt psnAcctPay fundPay othFeeAmt deposit "
                       "extData",
    m.OrderSyncExtData: "merchantNo terminalNo isvNo",
    m.BankCardPayRequest: "payAuthNo payOrdId payToken orgCodg orgBizSer expContent",
    m.BankCardPayExpContent: "merchantNo terminalNo isvNo",
    m.BankCardPayResponse: "medBankPayUrl extData",
    m.QueryOrderRequest: "payOrdId orgCodg payToken idNo userName idType expContent",
    m.QueryOrderExpContent: "merchantNo terminalNo isvNo",
    m.QueryOrderResponse: "ordStas payOrdId callType medOrgOrd traceTime orgCodg orgName setlType "
                          "feeSumamt ownPayAmt psnAcctPay fundPay revsToken extData deposit "
                          "hiChrgTime hiDocSn hiRgstSn ecCode",
    m.QueryOrderExtData: "psnPaySn",
    m.SettlementNotice: "payOrdId callType medOrgOrd traceTime feeSumamt ownpayAmt psnAcctPay "
                        "fundPay hiChrgTime hiDocSn hiRgstSn orgName ecCode setlType revsToken "
                        "extData orgCodg deposit",
    m.SettlementExtData: "psnPaySn",
    m.SettlementNoticeReply: "success message",
    m.RevokeRequest: "payOrdId orgCodg payToken idNo userName idType expContent",
    m.RevokeExpContent: "merchantNo terminalNo isvNo",
    m.RevokeResponse: "success",
}

MODELS = list(EXAMPLES)


def snake(wire: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", wire).lower()


def to_attr_names(model_cls, wire: dict) -> dict:
    """The same data keyed by Python attribute names (nested levels too)."""
    specs = {s.wire for s in model_cls.__medpay_specs__}
    out = {k: v for k, v in wire.items() if k not in specs}  # unknown keys stay as they are
    for spec in model_cls.__medpay_specs__:
        if spec.wire not in wire:
            continue
        value = wire[spec.wire]
        if spec.kind == "list":
            value = [to_attr_names(spec.model, item) for item in value]
        elif spec.kind == "object" and isinstance(value, dict):
            value = to_attr_names(spec.model, value)
        out[spec.attr] = value
    return out


def rules(exc_info) -> set:
    return {(e["field"], e["rule"]) for e in exc_info.value.errors}


# --------------------------------------------------------------------------- the contract


def test_every_contract_name_is_exported_from_medpay_core_models():
    names = """VoucherDecodeRequest VoucherDecodeResponse FeeUploadRequest FeeUploadExpContent
        DiseInfo FeeDetail FeeUploadResponse PayOrderRequest PayOrderResponse RefundRequest
        RefundResponse OrderSyncNotice BankCardPayRequest BankCardPayResponse QueryOrderRequest
        QueryOrderResponse SettlementNotice SettlementNoticeReply RevokeRequest RevokeResponse
        TRANSACTIONS Transaction""".split()
    missing = [n for n in names if not hasattr(m, n)]
    assert missing == []
    assert set(names) <= set(m.__all__)
    assert all(hasattr(m, n) for n in m.__all__)


def test_transactions_map_codes_to_paths_and_models():
    expected = {
        "6101": (None, m.VoucherDecodeRequest, m.VoucherDecodeResponse),
        "6201": ("uldFeeInfo", m.FeeUploadRequest, m.FeeUploadResponse),
        "6202": ("pay_order", m.PayOrderRequest, m.PayOrderResponse),
        "6203": ("refund_Order", m.RefundRequest, m.RefundResponse),
        "6204": (None, m.OrderSyncNotice, None),
        "6205": ("medBankPay", m.BankCardPayRequest, m.BankCardPayResponse),
        "6301": ("query_order_info", m.QueryOrderRequest, m.QueryOrderResponse),
        "6302": (None, m.SettlementNotice, m.SettlementNoticeReply),
        "6401": ("revoke_order", m.RevokeRequest, m.RevokeResponse),
    }
    got = {code: (t.path, t.request, t.response) for code, t in m.TRANSACTIONS.items()}
    assert got == expected
    assert all(t.code == code and t.name for code, t in m.TRANSACTIONS.items())


def test_transaction_is_a_frozen_dataclass():
    t = m.TRANSACTIONS["6201"]
    assert dataclasses.is_dataclass(t)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.path = "other"  # type: ignore[misc]


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_model_has_exactly_the_fields_of_its_table_in_order(model_cls):
    assert [s.wire for s in model_cls.__medpay_specs__] == TABLE_FIELDS[model_cls].split()


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_python_names_are_the_snake_case_of_the_wire_names(model_cls):
    for spec in model_cls.__medpay_specs__:
        assert spec.attr == snake(spec.wire), spec.wire
        assert model_cls.model_fields[spec.attr].alias == spec.wire


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_docstring_names_the_table_and_has_an_example(model_cls):
    doc = model_cls.__doc__ or ""
    assert "table" in doc and ">>>" in doc
    code = next((c for c, t in m.TRANSACTIONS.items() if model_cls in (t.request, t.response)), None)
    if code is not None:
        assert code in doc


def test_docstring_examples_run():
    for name in ("_base", "_common", "voucher", "upload", "payment", "refund", "query",
                 "notify", "revoke"):
        module = importlib.import_module(f"medpay_core.models.{name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
    assert doctest.testmod(m).failed == 0


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_valid_example_round_trips_through_to_wire_and_from_wire(model_cls):
    wire = EXAMPLES[model_cls]
    model = model_cls.from_wire(wire)
    out = model.to_wire()
    again = model_cls.from_wire(out)
    assert again.to_wire() == out
    assert again == model


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_building_by_python_names_equals_building_by_wire_names(model_cls):
    wire = EXAMPLES[model_cls]
    by_wire = model_cls(**wire)
    by_attr = model_cls(**to_attr_names(model_cls, wire))
    assert by_attr.to_wire() == by_wire.to_wire() == model_cls.from_wire(wire).to_wire()


def test_to_wire_gives_the_spec_names_and_keeps_decimals_exact():
    out = m.FeeUploadRequest.from_wire(FEE_UPLOAD).to_wire()
    assert out["medfeeSumamt"] == Decimal("49.60") and str(out["medfeeSumamt"]) == "49.60"
    line = out["feedetailList"][0]
    assert type(line) is dict and type(out["feedetailList"]) is list
    assert str(line["cnt"]) == "2.0000" and str(line["pric"]) == "12.900000"
    assert out["diseinfoList"][0]["diagSrtNo"] == 1
    assert set(out) == {k for k in FEE_UPLOAD}


def test_to_wire_leaves_out_fields_that_are_none():
    req = m.RevokeRequest(**{**REVOKE, "expContent": None})
    assert "expContent" not in req.to_wire()
    assert m.FeeUploadRequest.from_wire(FEE_UPLOAD).to_wire().get("endtime", "absent") == "absent"


def test_wire_dict_out_of_to_wire_is_what_the_envelope_codec_packs():
    import medpay_core as mp

    key = mp.SM2PrivateKey.generate()
    codec = mp.EnvelopeCodec(mp.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB",
                                            "4117E877F5FA0A0188891283E4B617D5", key, key.public_key()))
    req = m.FeeUploadRequest.from_wire(FEE_UPLOAD)
    data = codec.unpack(codec.pack_json(req.to_wire())).data
    assert m.FeeUploadRequest.from_wire(data) == req
    assert data["feedetailList"][0]["pric"] == Decimal("12.900000")


def test_unknown_wire_fields_are_kept_and_sent_back():
    resp = m.PayOrderResponse.from_wire({**PAY_ORDER_RESPONSE, "setlTime": "2026-11-25 10:00:05",
                                         "newAmt": Decimal("1.10")})
    assert resp.model_extra == {"setlTime": "2026-11-25 10:00:05", "newAmt": Decimal("1.10")}
    out = resp.to_wire()
    assert out["setlTime"] == "2026-11-25 10:00:05" and out["newAmt"] == Decimal("1.10")


def test_unknown_keys_inside_ext_objects_are_kept():
    resp = m.QueryOrderResponse.from_wire({**QUERY_RESPONSE,
                                           "extData": {"psnPaySn": "PS1", "setlId": "S9"}})
    assert resp.ext_data.psn_pay_sn == "PS1"
    assert resp.ext_data.model_extra == {"setlId": "S9"}
    assert resp.to_wire()["extData"] == {"psnPaySn": "PS1", "setlId": "S9"}


# --------------------------------------------------------------------------- one error type


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_every_entry_point_raises_medpay_validation_error_never_pydantics(model_cls):
    junk = {spec.wire: ["not", "valid"] for spec in model_cls.__medpay_specs__}
    for build in (lambda: model_cls(**junk), lambda: model_cls.from_wire(junk),
                  lambda: model_cls.model_validate(junk), lambda: model_cls.from_wire(None),
                  lambda: model_cls.model_validate_json(b"{not json")):
        with pytest.raises(ValidationError) as exc:
            build()
        assert not isinstance(exc.value, pydantic.ValidationError)
        assert isinstance(exc.value, MedpayError)
        assert exc.value.model == model_cls.__name__
        assert all(set(e) == {"field", "rule", "message"} for e in exc.value.errors)


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_all_bad_fields_are_listed_at_once_with_their_wire_names(model_cls):
    junk = {spec.wire: ("not a list" if spec.kind == "list" else ["not", "valid"])
            for spec in model_cls.__medpay_specs__}
    with pytest.raises(ValidationError) as exc:
        model_cls.from_wire(junk)
    assert [e["field"] for e in exc.value.errors] == [s.wire for s in model_cls.__medpay_specs__]
    assert {e["rule"] for e in exc.value.errors} == {"type"}


def test_nested_errors_name_the_path_with_list_indexes():
    lines = [LINE_1, LINE_2, {**LINE_2, "feedetlSn": "FD3", "detItemFeeSumamt": "1.234"}]
    bad = {**FEE_UPLOAD, "feedetailList": lines,
           "diseinfoList": [{**DISE, "diagTime": "2026/11/25 09:30"}],
           "expContent": {"merchantNo": "898350112340001"}}
    with pytest.raises(ValidationError) as exc:
        m.FeeUploadRequest.from_wire(bad)
    assert rules(exc) == {
        ("feedetailList[2].detItemFeeSumamt", "decimal_places"),
        ("diseinfoList[0].diagTime", "format"),
        ("expContent.terminalNo", "required"),
        ("expContent.isvNo", "required"),
    }


def test_error_messages_do_not_echo_the_values():
    bad = {**FEE_UPLOAD, "idNo": "350181199011193519" * 3, "userName": "张三" * 30,
           "refdType": "x"}
    with pytest.raises(ValidationError) as exc:
        m.FeeUploadRequest.from_wire(bad)
    text = str(exc.value) + repr(exc.value.errors)
    assert "350181199011193519" not in text and "张三" not in text
    assert rules(exc) == {("idNo", "max_length"), ("userName", "max_length")}


def test_models_copy_and_pickle():
    req = m.FeeUploadRequest.from_wire(FEE_UPLOAD)
    assert copy.deepcopy(req) == req
    assert pickle.loads(pickle.dumps(req)).to_wire() == req.to_wire()


def test_json_schema_uses_the_wire_names():
    schema = m.RefundRequest.model_json_schema(by_alias=True)
    assert "totlRefdAmt" in schema["properties"] and "refdType" in schema["properties"]
