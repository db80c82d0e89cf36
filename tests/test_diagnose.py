"""`diagnose`: names the known sign-text mistakes of other ports (docs/protocol.md §2 variants)."""

import base64
import json
from decimal import Decimal

import pytest

import medpay_core as mp

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
SK = mp.SM2PrivateKey.generate()
DATA = {"medfeeSumamt": Decimal("100.00"), "feedetailList": [{"cnt": Decimal("1.0000"), "memo": ""}], "feeType": "01"}


def envelope_signed_over(text: str, uid: bytes = b"1234567812345678", der: bool = False) -> dict:
    sig = SK.sign(text.encode(), uid=uid)
    if der:
        r, s = (int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))

        def integer(v):
            b = v.to_bytes((v.bit_length() + 8) // 8, "big")
            return b"\x02" + bytes([len(b)]) + b
        body = integer(r) + integer(s)
        sig = b"\x30" + bytes([len(body)]) + body
    return {"appId": APP_ID, "data": DATA, "timestamp": "1", "version": "2.0.1",
            "signData": base64.b64encode(sig).decode()}


def protocol_text() -> str:
    return mp.sign_text({"appId": APP_ID, "data": DATA, "timestamp": "1", "version": "2.0.1"}, SECRET)


def test_a_correct_signature_is_reported_as_verifying():
    d = mp.diagnose(envelope_signed_over(protocol_text()), SECRET, SK.public_key())
    assert d.verifies and d.variant is None
    assert "VERIFIES" in d.report() and SECRET not in d.report() and SECRET not in str(d)


def test_encrypted_envelopes_are_decrypted_for_the_diagnosis():
    codec = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, SK))
    d = mp.diagnose(codec.pack_json(DATA), SECRET, SK.public_key())
    assert d.verifies and '"medfeeSumamt":"100.00"' in d.sign_text


@pytest.mark.parametrize(
    "wrong_text, variant",
    [
        (lambda t: t.replace('"cnt":"1.0000"', '"cnt":1.0000').replace('"medfeeSumamt":"100.00"', '"medfeeSumamt":100.00'),
         "kept as JSON values"),
        (lambda t: t.replace('"100.00"', '"100.0"').replace('"1.0000"', '"1.0"'), "Java style"),
        (lambda t: t.replace('{"cnt":"1.0000"}', '{"cnt":"1.0000","memo":""}'), "empty strings"),
        (lambda t: t.replace('"cnt":"1.0000"', '"cnt":1.0000'), "top-level scalars"),
        (lambda t: t.replace('":', '": ').replace(',"', ', "'), "json.dumps default separators"),
        (lambda t: t.replace("&key=" + SECRET, "&" + SECRET), '"&key=" forgotten'),
        (lambda t: t + "\n", "ends with a newline"),
        (lambda t: t + " ", "ends with a space"),
    ],
)
def test_each_sign_text_variant_is_named(wrong_text, variant):
    d = mp.diagnose(envelope_signed_over(wrong_text(protocol_text())), SECRET, SK.public_key())
    assert not d.verifies
    assert variant in (d.variant or ""), d.report()
    assert "known variant" in d.report()


def test_app_secret_as_uid_is_named():
    d = mp.diagnose(envelope_signed_over(protocol_text(), uid=SECRET.encode()), SECRET, SK.public_key())
    assert "appSecret used as the SM2 uid" in (d.variant or "")


def test_der_signature_is_noted():
    d = mp.diagnose(envelope_signed_over(protocol_text(), der=True), SECRET, SK.public_key())
    assert d.verifies and any("DER" in f for f in d.findings)


def test_unexplained_failure_says_so():
    d = mp.diagnose(envelope_signed_over("something else entirely"), SECRET, SK.public_key())
    assert not d.verifies and d.variant is None
    assert "no known variant" in d.report()


def test_missing_signature_is_a_finding_not_an_exception():
    env = envelope_signed_over(protocol_text())
    del env["signData"]
    d = mp.diagnose(json.dumps(env, default=str), SECRET, SK.public_key())
    assert not d.verifies and any("no signData" in f for f in d.findings)


EMPTIES = {"a": {}, "b": [], "c": "x", "d": [[], "y"]}


@pytest.mark.parametrize(
    "signed_data, variant",
    [
        ('{"c":"x","d":[[],"y"]}', "empty objects dropped"),
        ('{"a":{},"b":[],"c":"x","d":[[],"y"]}', "empty arrays kept"),
    ],
)
def test_the_rules_for_empty_values_of_other_signers_are_named(signed_data, variant):
    fields = {"appId": APP_ID, "timestamp": "1", "version": "2.0.1"}
    ours = mp.sign_text({**fields, "data": EMPTIES}, SECRET)
    assert 'data={"a":{},"c":"x","d":[null,"y"]}' in ours
    theirs = ours.replace('{"a":{},"c":"x","d":[null,"y"]}', signed_data)
    env = {**fields, "data": EMPTIES, "signData": base64.b64encode(SK.sign(theirs.encode())).decode()}
    d = mp.diagnose(env, SECRET, SK.public_key())
    assert not d.verifies and variant in (d.variant or ""), d.report()


def test_encdata_that_does_not_decrypt_says_first_the_secret_is_probably_wrong():
    codec = mp.EnvelopeCodec(mp.Credentials(APP_ID, "ANOTHER0SECRET0123456789ABCDEFGH", SK))
    d = mp.diagnose(codec.pack_json({"a": "1"}), SECRET, SK.public_key())
    assert d.data_unreadable
    assert "appSecret (or the appId) is probably wrong" in d.findings[0]
    assert "does NOT decrypt" in d.report().splitlines()[1]


def test_data_sent_as_a_json_string_is_diagnosed_as_unpack_reads_it():
    fields = {"appId": APP_ID, "timestamp": "1", "version": "2.0.1"}
    text = mp.sign_text({**fields, "data": {"b": Decimal("1.50"), "a": {}}}, SECRET)
    env = {**fields, "data": '{"b":1.50,"a":{}}', "signData": base64.b64encode(SK.sign(text.encode())).decode()}
    d = mp.diagnose(env, SECRET, SK.public_key())
    # The diagnosis shows the text with its secret masked.
    assert mp.sign_text(env, SECRET) == text
    assert d.verifies and d.sign_text == text[: -len(SECRET)] + "********"
