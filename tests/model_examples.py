"""Valid wire examples of every table (a Fuzhou outpatient visit), the fields of each
table in order, and the helpers the model tests share."""

from __future__ import annotations

import re
import typing
from decimal import Decimal
from typing import Any, List, Optional

import pytest

import medpay_core.models as m
from medpay_core.errors import ValidationError

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


def inner_model(model_cls: type, attr: str) -> Optional[type]:
    """The model class inside a field's annotation (``Optional[X]``, ``List[X]``)."""
    def find(t: Any) -> Optional[type]:
        if isinstance(t, type) and issubclass(t, m.WireModel):
            return t
        for arg in typing.get_args(t):
            found = find(arg)
            if found is not None:
                return found
        return None
    return find(model_cls.model_fields[attr].annotation)


def wire_names(model_cls: type) -> List[str]:
    """The wire names of a model's fields, in the table's order."""
    return [f.serialization_alias for f in model_cls.model_fields.values()]


def to_attr_names(model_cls, wire: dict) -> dict:
    """The same data keyed by Python attribute names (nested levels too)."""
    by_wire = {f.serialization_alias: a for a, f in model_cls.model_fields.items()}
    out = {k: v for k, v in wire.items() if k not in by_wire}  # unknown keys stay as they are
    for key, value in wire.items():
        attr = by_wire.get(key)
        if attr is None:
            continue
        sub = inner_model(model_cls, attr)
        if sub is not None and isinstance(value, list):
            value = [to_attr_names(sub, item) for item in value]
        elif sub is not None and isinstance(value, dict):
            value = to_attr_names(sub, value)
        out[attr] = value
    return out


def rules(exc_info) -> set:
    """(field, rule) of each error of a medpay ValidationError."""
    return {(e["field"], e["rule"]) for e in exc_info.value.errors}


def fails(model_cls: type, data: Any) -> set:
    """The (field, rule) pairs medpay's boundary reports for ``data``."""
    with pytest.raises(ValidationError) as exc:
        m.validate(model_cls, data)
    return rules(exc)


def without(d: dict, *keys: str) -> dict:
    return {k: v for k, v in d.items() if k not in keys}
