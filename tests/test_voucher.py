"""6101 with the sandbox QR format: issue_sandbox_qr and SandboxVoucherDecoder."""

from __future__ import annotations

import pytest

import medpay_core as mp
from medpay_core import models
from medpay_core.voucher import (
    InvalidVoucher,
    SandboxVoucherDecoder,
    VoucherDecoder,
    issue_sandbox_qr,
)

SANDBOX = mp.Credentials("SANDBOXAPP0000000000000000000001", "SANDBOXSECRET000000000000000001")
REQUEST = {
    "orgId": "H35010200001",
    "businessType": "01101",
    "operatorId": "0001",
    "operatorName": "收费员",
    "officeId": "0101",
    "officeName": "门诊收费处",
}
PERSON = dict(user_name="张三", id_no="350181199011193519", insu_org="350100")


def test_a_sandbox_qr_decodes_to_the_person_and_their_pay_auth_no():
    qr = issue_sandbox_qr(SANDBOX, **PERSON, pay_auth_no="AUTH123", gender="1", birthday="1990-11-19")
    out = SandboxVoucherDecoder(SANDBOX).decode(qr, REQUEST)
    assert isinstance(out, models.VoucherDecodeResponse)
    assert (out.user_name, out.id_no, out.id_type, out.insu_org) == ("张三", "350181199011193519", "01", "350100")
    assert out.auth_no == "AUTH123" and out.gender == "1" and out.birthday == "1990-11-19"
    assert out.ec_token.startswith("350100")


def test_the_decoder_takes_a_request_model_and_fits_the_protocol():
    decoder = SandboxVoucherDecoder({SANDBOX.app_id: SANDBOX})
    assert isinstance(decoder, VoucherDecoder)
    req = models.VoucherDecodeRequest.from_wire(REQUEST)
    assert decoder.decode(issue_sandbox_qr(SANDBOX, **PERSON), req).user_name == "张三"


def test_each_issued_code_gets_its_own_tokens():
    decoder = SandboxVoucherDecoder(SANDBOX)
    a = decoder.decode(issue_sandbox_qr(SANDBOX, **PERSON), REQUEST)
    b = decoder.decode(issue_sandbox_qr(SANDBOX, **PERSON), REQUEST)
    assert a.ec_token != b.ec_token and a.auth_no != b.auth_no


def test_an_altered_code_is_refused():
    qr = issue_sandbox_qr(SANDBOX, **PERSON)
    head, enc, mac = qr.rsplit(":", 2)
    flipped = enc[:10] + ("0" if enc[10] != "0" else "1") + enc[11:]
    with pytest.raises(InvalidVoucher) as ei:
        SandboxVoucherDecoder(SANDBOX).decode(f"{head}:{flipped}:{mac}", REQUEST)
    assert ei.value.reason == "mac"


def test_an_expired_code_is_refused():
    qr = issue_sandbox_qr(SANDBOX, **PERSON, ttl=60, now=1_000_000)
    assert SandboxVoucherDecoder(SANDBOX, clock=lambda: 1_000_059).decode(qr, REQUEST)
    with pytest.raises(InvalidVoucher) as ei:
        SandboxVoucherDecoder(SANDBOX, clock=lambda: 1_000_061).decode(qr, REQUEST)
    assert ei.value.reason == "expired"


def test_a_code_bound_to_an_institution_is_refused_elsewhere():
    qr = issue_sandbox_qr(SANDBOX, **PERSON, org_id="H35010200001")
    assert SandboxVoucherDecoder(SANDBOX).decode(qr, REQUEST).user_name == "张三"
    with pytest.raises(InvalidVoucher) as ei:
        SandboxVoucherDecoder(SANDBOX).decode(qr, {**REQUEST, "orgId": "H99999999999"})
    assert ei.value.reason == "org"


def test_a_code_from_another_sandbox_is_refused():
    other = mp.Credentials("OTHERSANDBOX00000000000000000001", "X" * 32)
    with pytest.raises(InvalidVoucher) as ei:
        SandboxVoucherDecoder(SANDBOX).decode(issue_sandbox_qr(other, **PERSON), REQUEST)
    assert ei.value.reason == "issuer"


@pytest.mark.parametrize("text", ["", "hello", "MEDPAY-SANDBOX:", "MEDPAY-SANDBOX:2:a:b:c", "MEDPAY-SANDBOX:1:a:b"])
def test_text_that_is_not_a_sandbox_code_is_refused(text):
    with pytest.raises(InvalidVoucher) as ei:
        SandboxVoucherDecoder(SANDBOX).decode(text, REQUEST)
    assert ei.value.reason in ("format", "issuer")


def test_an_invalid_request_is_refused():
    bad = dict(REQUEST)
    del bad["orgId"]
    with pytest.raises(mp.ValidationError):
        SandboxVoucherDecoder(SANDBOX).decode(issue_sandbox_qr(SANDBOX, **PERSON), bad)


def test_issuing_for_an_invalid_person_fails_at_issue_time():
    with pytest.raises(mp.ValidationError):
        issue_sandbox_qr(SANDBOX, **{**PERSON, "insu_org": "1234567"})
