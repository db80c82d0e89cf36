"""Secrets never surface: the appSecret is masked at the end of every sign text the module
shows, and is in no repr or error; pasted credentials lose their surrounding white space;
the fixed-k signer (which would reveal a private key) is not in the build."""

import base64
import json
from decimal import Decimal

import pytest

import medpay_core as mp
from medpay_core import _native

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
MASK = "********"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

SMALL = {"payOrdId": "P1", "amt": Decimal("1.00")}
# Over the two-core threshold (4 KiB of JSON): unpack verifies on a helper thread.
LARGE = {"feedetailList": [{"feedetlSn": f"FD{i:04d}", "cnt": Decimal("1.0000")} for i in range(200)]}


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["one core", "two cores"])
def test_message_sign_text_ends_with_the_mask_not_the_secret(data):
    body = THEIRS.pack_json(data, code=0)
    full = mp.sign_text(dict(json.loads(body), data=data), SECRET)
    assert full.endswith("&key=" + SECRET)
    for msg in (OURS.unpack(body), OURS.unpack(json.loads(body)), OURS.unpack_many([body])[0]):
        assert msg.sign_text == full[: -len(SECRET)] + MASK
        assert SECRET not in msg.sign_text and SECRET not in repr(msg)


def test_a_short_secret_masks_only_the_end():
    short = mp.EnvelopeCodec(mp.Credentials(APP_ID, "K", INST, CENTER.public_key()))
    sender = mp.EnvelopeCodec(mp.Credentials(APP_ID, "K", CENTER, INST.public_key()))
    msg = short.unpack(sender.pack_json({"k": "KKK"}))
    assert msg.sign_text.endswith('data={"k":"KKK"}&encType=SM4&signType=SM2&timestamp=' + msg.fields["timestamp"]
                                  + "&version=2.0.1&key=" + MASK)


def test_diagnosis_shows_sign_texts_masked():
    body = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER)).pack_json(SMALL)
    d = mp.diagnose(body, SECRET, CENTER.public_key())
    assert d.verifies and d.sign_text.endswith("&key=" + MASK)
    assert SECRET not in d.sign_text + d.report() + repr(d) + str(d)
    # A variant's text too (the signer forgot "&key=": the secret stands alone at the end).
    env = {"appId": APP_ID, "data": {"a": "1"}, "timestamp": "1", "version": "2.0.1"}
    wrong = mp.sign_text(env, SECRET).replace("&key=" + SECRET, "&" + SECRET)
    env["signData"] = base64.b64encode(CENTER.sign(wrong.encode())).decode()
    d = mp.diagnose(env, SECRET, CENTER.public_key())
    assert d.variant and d.variant_sign_text.endswith("&" + MASK) and SECRET not in d.variant_sign_text


def test_no_repr_or_error_holds_the_secret():
    creds = OURS.credentials
    assert SECRET not in repr(creds) + repr(OURS) + repr(OURS.unpack(THEIRS.pack_json(SMALL)))
    stranger = mp.EnvelopeCodec(mp.Credentials(APP_ID, "0THER" + SECRET[5:], CENTER, INST.public_key()))
    bad = [stranger.pack_json(SMALL, code=1, message="x"), b"not json", THEIRS.pack_json(SMALL, timestamp="1")[:-2] + b"}",
           json.dumps({**THEIRS.pack(SMALL), "version": "1.0"})]
    for body in bad:
        with pytest.raises(mp.MedpayError) as e:
            OURS.unpack(body)
        assert SECRET not in str(e.value) and SECRET not in repr(e.value)
        assert all(SECRET not in str(v) for v in vars(e.value).values())


def test_pasted_credentials_lose_their_surrounding_white_space():
    pasted = mp.Credentials(f"  {APP_ID}\n", f"{SECRET}\r\n", INST, CENTER.public_key())
    assert (pasted.app_id, pasted.app_secret) == (APP_ID, SECRET)
    # It reads and writes exactly what the clean credentials do.
    assert mp.EnvelopeCodec(pasted).unpack(THEIRS.pack_json(SMALL)).data == SMALL
    assert THEIRS.unpack(mp.EnvelopeCodec(pasted).pack_json(SMALL)).data == SMALL
    with pytest.raises(mp.KeyFormatError, match="empty"):
        mp.Credentials(APP_ID, " \n\t")


def test_the_fixed_k_signer_is_not_in_the_build():
    # It reveals the private key; only a build with the fixed-k-vectors feature has it.
    assert not hasattr(_native, "_sign_with_fixed_k")
    assert "_sign_with_fixed_k" not in _native.__all__
