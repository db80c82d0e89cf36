"""Property tests: medpay against an independent reference (tests/reference.py, built on
the pure-Python gmssl package and json), both directions."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medpay_core as mp
import reference as ref

APP_ID = "1H452H9AR0LO3F60C80A000054C771C6"
SECRET = "1H452H9B30LP3F60C80A0000AB8B7385"

# Keys shared by every example (gmssl's SM2 is slow; keys are not what varies here).
INST = mp.SM2PrivateKey.generate()
CENTER = mp.SM2PrivateKey.generate()
INST_CODEC = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
CENTER_CODEC = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

keys = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P")), min_size=1, max_size=8)
text = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(["张三", "闽政通测试", "布洛芬缓释胶囊", 'q"uote\\', "tab\tnew\nline", "\x01\x1f",
                     # The characters the two JSON libraries escape differently, and blanks.
                     "\x7f\x85\x9f", "张\xa0三", "a\u2028b\u2029", "\x0b", " ", "null"]),
)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**14, max_value=10**14)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), decimals, text,
                    st.sampled_from([Decimal("100.00"), Decimal("0.10"), Decimal("1.0000"), Decimal("-0"),
                                     Decimal("-0.00"), Decimal("1E+2"), Decimal("1E-7"), Decimal("1.5E+3")]))
# Empty and emptied objects and arrays stand beside the rest: the rules differ for each.
empties = st.sampled_from([{}, [], [[]], [""], {"x": None}, {"x": {"y": ""}}, ["x", ""]])
values = st.recursive(st.one_of(scalars, empties),
                      lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(keys, c, max_size=4)),
                      max_leaves=20)
data_objects = st.dictionaries(keys, values, max_size=6)


def signable(data) -> bool:
    """Whether the center's SDK can sign ``data`` (the reference's strict rules)."""
    try:
        ref.sign_text({"data": data}, SECRET, strict=True)
        return True
    except ref.Unsignable:
        return False

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data_objects)
def test_sign_texts_agree(data):
    msg = {"appId": APP_ID, "data": data, "encType": "SM4", "signType": "SM2", "timestamp": "1", "version": "2.0.1"}
    assert mp.sign_text(msg, SECRET) == ref.sign_text(msg, SECRET)


@SETTINGS
@given(data_objects)
def test_sign_texts_agree_from_json_text(data):
    body = ref.dumps({"appId": APP_ID, "data": data})
    assert mp.sign_text(body, SECRET) == ref.sign_text(ref.loads(body), SECRET)


@SETTINGS
@given(data_objects)
def test_medpay_pack_unpacks_with_the_reference(data):
    if not signable(data):
        with pytest.raises(mp.EnvelopeError, match="the center's SDK cannot sign"):
            INST_CODEC.pack_json(data)
        return
    env = ref.loads(INST_CODEC.pack_json(data))
    assert ref.unpack(APP_ID, SECRET, INST.public_key().to_hex(), env) == data


@SETTINGS
@given(data_objects)
def test_reference_pack_unpacks_with_medpay(data):
    # Lenient: the text of signable data is the SDK's; of the rest, what a lenient peer signs.
    env = ref.pack(APP_ID, SECRET, CENTER.to_hex(), CENTER.public_key().to_hex(), data, strict=False)
    msg = INST_CODEC.unpack(ref.dumps(env).encode())
    assert msg.data == data
    text = ref.sign_text({**{k: v for k, v in env.items() if k != "encData"}, "data": data}, SECRET)
    assert msg.sign_text == text[: -len(SECRET)] + "********"  # the secret is masked


@SETTINGS
@given(st.binary(max_size=200))
def test_signatures_cross_verify_both_ways(message):
    sig = INST.sign(message)
    assert ref.verify(INST.public_key().to_hex(), message, sig)
    theirs = ref.sign(INST.to_hex(), INST.public_key().to_hex(), message)
    assert INST.public_key().verify(message, theirs)


@SETTINGS
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=16, max_size=32), st.text(min_size=1, max_size=40))
def test_data_keys_agree(app_id, secret):
    assert mp.derive_sm4_key(app_id, secret) == ref.data_key(app_id, secret)


def test_response_fields_take_part_in_both_sign_texts():
    env = ref.pack(APP_ID, SECRET, CENTER.to_hex(), CENTER.public_key().to_hex(), {"a": 1},
                   code=0, message="成功", success=True)
    msg = INST_CODEC.unpack(ref.dumps(env).encode())
    assert (msg.code, msg.success) == (0, True)
    env["success"] = False
    with pytest.raises(mp.SignatureError):
        INST_CODEC.unpack(ref.dumps(env).encode())
