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
from decimal import Decimal

import pydantic
import pytest

import medpay_core.models as m
from medpay_core.errors import MedpayError, ValidationError
from model_examples import (DISE, EXAMPLES, FEE_UPLOAD, LINE_1, LINE_2, MODELS,
                            PAY_ORDER_RESPONSE, QUERY_RESPONSE, REFUND, REVOKE, TABLE_FIELDS,
                            rules, snake, to_attr_names, wire_names)

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
    assert wire_names(model_cls) == TABLE_FIELDS[model_cls].split()


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_python_names_are_the_snake_case_of_the_wire_names(model_cls):
    for attr, info in model_cls.model_fields.items():
        assert attr == snake(info.serialization_alias), attr


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


# --------------------------------------------------------------------------- one path


def _junk(model_cls) -> dict:
    """A value of the wrong kind for every field."""
    out = {}
    for info in model_cls.model_fields.values():
        is_list = "List[" in str(info.annotation) or "list[" in str(info.annotation)
        out[info.serialization_alias] = "not a list" if is_list else ["not", "valid"]
    return out


def _pydantic_errors(build) -> list:
    with pytest.raises(pydantic.ValidationError) as exc:
        build()
    return [(e["type"], e["loc"]) for e in exc.value.errors(include_url=False)]


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_every_entry_point_runs_the_same_validation(model_cls):
    # The constructor, model_validate, model_validate_json and TypeAdapter (what FastAPI
    # calls) give the same errors, as the same pydantic ValidationError class.
    import json
    junk = _junk(model_cls)
    adapter = pydantic.TypeAdapter(model_cls)
    expected = _pydantic_errors(lambda: model_cls.model_validate(junk))
    assert expected
    assert _pydantic_errors(lambda: model_cls(**junk)) == expected
    assert _pydantic_errors(lambda: adapter.validate_python(junk)) == expected
    assert _pydantic_errors(lambda: model_cls.model_validate_json(json.dumps(junk))) == expected
    assert _pydantic_errors(lambda: adapter.validate_json(json.dumps(junk))) == expected


@pytest.mark.parametrize("model_cls", MODELS, ids=lambda c: c.__name__)
def test_medpay_boundary_raises_medpay_validation_error_with_every_field(model_cls):
    junk = _junk(model_cls)
    for data in (junk, None, "not an object" if not issubclass(model_cls, m.ExtModel) else 5):
        with pytest.raises(ValidationError) as exc:
            m.validate(model_cls, data)
        assert isinstance(exc.value, MedpayError) and not isinstance(exc.value, pydantic.ValidationError)
        assert exc.value.model == model_cls.__name__
        assert all(set(e) == {"field", "rule", "message"} for e in exc.value.errors)
    with pytest.raises(ValidationError) as exc:
        m.validate(model_cls, junk)
    assert [e["field"] for e in exc.value.errors] == wire_names(model_cls)
    assert {e["rule"] for e in exc.value.errors} == {"type"}


def test_a_typo_in_a_request_field_is_refused_not_sent():
    # Before: RefundRequest(..., fund_refd_amount="10").to_wire() carried the typo and
    # left the real fundRefdAmt out.
    attrs = to_attr_names(m.RefundRequest, REFUND)
    with pytest.raises(pydantic.ValidationError) as exc:
        m.RefundRequest(**attrs, fund_refd_amount="10")
    assert [(e["type"], e["loc"]) for e in exc.value.errors()] == [("extra_forbidden", ("fund_refd_amount",))]
    with pytest.raises(ValidationError) as exc2:
        m.validate(m.RefundRequest, {**REFUND, "fundRefdAmount": "10"})
    assert rules(exc2) == {("fundRefdAmount", "unknown_field")}
    with pytest.raises(ValidationError) as exc3:
        m.validate(m.FeeUploadRequest, {**FEE_UPLOAD, "medfeeSumAmt": "1.00"})
    assert rules(exc3) == {("medfeeSumAmt", "unknown_field")}


def test_answers_and_notices_keep_unknown_fields_but_requests_do_not():
    inbound = [c for c in MODELS if c.model_config.get("extra") == "allow"]
    strict = [c for c in MODELS if c.model_config.get("extra") == "forbid"]
    assert m.RefundRequest in strict and m.FeeUploadRequest in strict and m.FeeDetail in strict
    assert m.SettlementNoticeReply in strict and m.CashierEncData in strict
    assert m.RefundResponse in inbound and m.SettlementNotice in inbound and m.OrderSyncNotice in inbound
    assert all(issubclass(c, (m.InboundModel, m.ExtModel)) for c in inbound)


def test_a_float_amount_is_refused_by_every_entry_point_of_a_request():
    # Before: model_validate_json accepted 25.80 that TypeAdapter refused.
    import json
    doc = {**REFUND, "totlRefdAmt": 25.80}
    text = json.dumps(doc, default=str)
    for build in (lambda: m.RefundRequest.model_validate(doc),
                  lambda: m.RefundRequest.model_validate_json(text),
                  lambda: pydantic.TypeAdapter(m.RefundRequest).validate_json(text)):
        assert _pydantic_errors(build) == [("float_refused", ("totlRefdAmt",))]
    ok = m.RefundRequest.model_validate_json(json.dumps({**REFUND, "totlRefdAmt": "25.80"}, default=str))
    assert str(ok.totl_refd_amt) == "25.80"


def test_json_schema_tells_required_fields_lengths_precision_and_value_sets():
    schema = m.RefundRequest.model_json_schema()
    props = schema["properties"]
    assert set(schema["required"]) == {"payOrdId", "appRefdSn", "appRefdTime", "totlRefdAmt",
                                       "cashRefdAmt", "refdType"}
    assert schema["additionalProperties"] is False
    assert props["payOrdId"]["maxLength"] == 40 and props["payOrdId"]["minLength"] == 1
    assert props["refdType"]["enum"] == ["ALL", "CASH", "HI"]
    assert props["appRefdTime"]["pattern"] == "^[0-9]{14}$"
    amt = props["totlRefdAmt"]
    assert amt["max_digits"] == 12 and amt["decimal_places"] == 2
    assert {b.get("type") for b in amt["anyOf"]} == {"string", "integer"}  # no float
    upload = m.FeeUploadRequest.model_json_schema()
    assert upload["properties"]["feedetailList"]["minItems"] == 1
    answer = m.QueryOrderResponse.model_json_schema()
    assert set(answer["required"]) == {"ordStas", "payOrdId", "callType"}
    assert answer.get("additionalProperties", True) is not False


def test_fastapi_validates_a_request_model_as_the_constructor_does():
    import fastapi
    from fastapi.testclient import TestClient

    app = fastapi.FastAPI()

    @app.post("/refund")
    def refund(req: m.RefundRequest) -> dict:
        return {"total": str(req.totl_refd_amt)}

    client = TestClient(app)
    assert client.post("/refund", json={**{k: (str(v) if isinstance(v, Decimal) else v)
                                           for k, v in REFUND.items()}}).json() == {"total": "49.60"}
    bad = client.post("/refund", json={**{k: (str(v) if isinstance(v, Decimal) else v)
                                          for k, v in REFUND.items()}, "totlRefdAmt": 25.8,
                                       "fundRefdAmount": "1"})
    assert bad.status_code == 422
    assert {(d["type"], d["loc"][-1]) for d in bad.json()["detail"]} == {
        ("float_refused", "totlRefdAmt"), ("extra_forbidden", "fundRefdAmount")}


def test_nested_errors_name_the_path_with_list_indexes():
    lines = [LINE_1, LINE_2, {**LINE_2, "feedetlSn": "FD3", "detItemFeeSumamt": "1.234"}]
    bad = {**FEE_UPLOAD, "feedetailList": lines,
           "diseinfoList": [{**DISE, "diagTime": "2026/11/25 09:30"}],
           "expContent": {"merchantNo": "898350112340001"}}
    with pytest.raises(ValidationError) as exc:
        m.validate(m.FeeUploadRequest, bad)
    assert rules(exc) == {
        ("feedetailList[2].detItemFeeSumamt", "decimal_places"),
        ("diseinfoList[0].diagTime", "format"),
        ("expContent.terminalNo", "required"),
        ("expContent.isvNo", "required"),
    }


def test_error_messages_do_not_echo_the_values():
    bad = {**FEE_UPLOAD, "idNo": "350181199011193519" * 3, "userName": "张三" * 30}
    with pytest.raises(ValidationError) as exc:
        m.validate(m.FeeUploadRequest, bad)
    text = str(exc.value) + repr(exc.value.errors)
    assert "350181199011193519" not in text and "张三" not in text
    assert rules(exc) == {("idNo", "max_length"), ("userName", "max_length")}


def test_models_copy_and_pickle():
    req = m.FeeUploadRequest.from_wire(FEE_UPLOAD)
    assert copy.deepcopy(req) == req
    assert pickle.loads(pickle.dumps(req)).to_wire() == req.to_wire()


def test_json_schema_uses_the_wire_names():
    schema = m.RefundRequest.model_json_schema()
    assert "totlRefdAmt" in schema["properties"] and "refdType" in schema["properties"]


def test_the_models_do_not_override_pydantics_entry_points():
    # Before, __init__, model_validate, model_validate_json and __setattr__ were replaced,
    # which is how the entry points came to disagree.
    for model_cls in MODELS:
        ours = model_cls.__mro__[: model_cls.__mro__.index(pydantic.BaseModel)]
        for name in ("__init__", "model_validate", "model_validate_json", "__setattr__"):
            assert not [c for c in ours if name in vars(c)], (model_cls, name)
