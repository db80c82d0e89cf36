"""Hostile input to the native codec (issue 12): whatever a peer or a caller sends, the
codec answers with a typed MedpayError, never a bare ValueError, UnicodeEncodeError or
TypeError, and a batch reports it for that item alone; an unauthenticated message costs
memory in proportion to its bytes."""

import json
import subprocess
import sys
import textwrap

import pytest

import medpay_core as mp
from medpay_core import _native
from medpay_core.errors import EnvelopeError, KeyFormatError, MedpayError

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

# One more digit than CPython converts by default (sys.get_int_max_str_digits()).
HUGE = "9" * 4301


def sealed(data_text: str, **extra) -> bytes:
    """A signed envelope whose decrypted data is exactly `data_text` (its signature is
    over other data: what matters is that the text is read, and how it fails)."""
    env = THEIRS.pack({"a": "1"}, timestamp="1", **extra)
    key = _native.derive_sm4_key(APP_ID, SECRET)
    env["encData"] = _native.sm4_ecb_encrypt(key, data_text.encode()).hex().upper()
    return json.dumps(env).encode()


# --- F2: integer literals longer than Python converts --------------------------------


@pytest.mark.parametrize("where", ["data", "large data", "very large data", "field", "plain data"])
def test_a_huge_integer_is_an_envelope_error(where):
    if where == "data":
        body = sealed('{"n":%s}' % HUGE)
    elif where == "large data":
        # Large enough for the route that builds from the text.
        body = sealed('{"pad":"%s","n":[%s]}' % ("x" * 8192, HUGE))
    elif where == "very large data":
        # Large enough to be verified before anything is built: refused even so.
        body = sealed('{"pad":"%s","n":[%s]}' % ("x" * 300_000, HUGE))
    elif where == "field":
        env = THEIRS.pack({"a": "1"}, timestamp="1")
        body = json.dumps(env)[:-1].encode() + b',"extra":' + HUGE.encode() + b"}"
    else:
        body = b'{"code":0,"data":{"n":' + HUGE.encode() + b"}}"
    with pytest.raises(EnvelopeError) as e:
        OURS.unpack(body, require_signature=False)
    assert "digits" in str(e.value)
    # A batch reports it for that item alone.
    good = THEIRS.pack_json({"a": "1"})
    out = OURS.unpack_many([good, body, good], require_signature=False)
    assert isinstance(out[1], EnvelopeError) and "digits" in str(out[1])
    assert out[0].data == out[2].data == {"a": "1"}


def test_the_longest_integer_python_converts_is_read():
    n = "9" * 4300
    msg = OURS.unpack(b'{"code":0,"data":{"n":' + n.encode() + b"}}", require_signature=False)
    assert msg.data == {"n": int(n)}
    assert _native.parse_json("[%s]" % n) == [int(n)]


def test_parse_json_refuses_a_huge_integer_and_keeps_long_decimals():
    with pytest.raises(EnvelopeError, match="digits"):
        _native.parse_json("[%s]" % HUGE)
    with pytest.raises(EnvelopeError, match="digits"):
        _native.parse_json(b"[-%s]" % HUGE.encode())
    # Decimals have no such limit in Python: they are read as sent.
    from decimal import Decimal

    assert _native.parse_json("[%s.5]" % HUGE) == [Decimal(HUGE + ".5")]


@pytest.mark.parametrize("literal", ["1e9999999999999999999", "-1.5E-99999999999999999999"])
def test_an_exponent_decimal_cannot_hold_is_an_envelope_error(literal):
    with pytest.raises(EnvelopeError):
        _native.parse_json("[%s]" % literal)
    body = ('{"code":0,"data":{"n":%s}}' % literal).encode()
    with pytest.raises(EnvelopeError):
        OURS.unpack(body, require_signature=False)
    good = THEIRS.pack_json({"a": "1"})
    out = OURS.unpack_many([good, body, good], require_signature=False)
    assert isinstance(out[1], EnvelopeError) and out[0].data == out[2].data == {"a": "1"}


def test_pack_refuses_a_huge_integer_per_item():
    from decimal import Decimal

    for bad in ({"n": Decimal(HUGE)}, {"n": [Decimal("-" + HUGE)]}):
        with pytest.raises(EnvelopeError, match="digits"):
            THEIRS.pack_json(bad)
        out = THEIRS.pack_many([{"a": "1"}, bad])
        assert isinstance(out[0], bytes) and isinstance(out[1], EnvelopeError)


def test_a_stricter_interpreter_limit_is_an_envelope_error_too():
    # A process that lowered CPython's limit: the conversion's ValueError is still typed.
    code = textwrap.dedent(
        """
        import sys
        sys.set_int_max_str_digits(1000)
        from medpay_core import _native
        from medpay_core.errors import EnvelopeError
        try:
            _native.parse_json("[%s]" % ("9" * 2000))
        except EnvelopeError as e:
            print("EnvelopeError", e)
        """
    )
    if sys.version_info < (3, 11) and not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("no int/str conversion limit in this interpreter")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("EnvelopeError"), out.stderr


# --- F13: lone surrogates, non-string encData ----------------------------------------

LONE = "\ud800"


@pytest.mark.parametrize(
    "call",
    [
        lambda: THEIRS.pack({"a": LONE}),
        lambda: THEIRS.pack({LONE: "1"}),
        lambda: THEIRS.pack({"a": "1"}, timestamp=LONE),
        lambda: THEIRS.pack({"a": "1"}, version=LONE),
        lambda: THEIRS.pack({"a": "1"}, message=LONE),
        lambda: THEIRS.pack({"a": "1"}, **{LONE: "1"}),
        lambda: THEIRS.pack_json({"a": LONE}),
        lambda: THEIRS.pack_json({"a": "1"}, timestamp=LONE),
        lambda: THEIRS.pack_json({"a": "1"}, **{LONE: "1"}),
        lambda: OURS.unpack('{"code":0,"message":"%s"}' % LONE, require_signature=False),
        lambda: OURS.unpack({"code": 0, "message": LONE}, require_signature=False),
        lambda: _native.sign_text('{"appId":"%s"}' % LONE, SECRET),
        lambda: _native.sign_text({"appId": LONE}, SECRET),
        lambda: _native.sign_text({"appId": "A"}, LONE),
        lambda: _native.sign_text({"appId": "A"}, SECRET, key_order=LONE),
        lambda: _native.parse_json('"%s"' % LONE),
        lambda: OURS.decrypt_data(LONE),
        lambda: _native.diagnose(THEIRS.pack({"a": "1"}), LONE, INST.public_key()),
        lambda: _native.derive_sm4_key(APP_ID, LONE),
        lambda: _native.derive_sm4_key(LONE, SECRET),
        lambda: mp.Credentials(LONE, SECRET, INST, CENTER.public_key()),
        lambda: mp.Credentials(APP_ID, LONE, INST, CENTER.public_key()),
        lambda: mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key(), key_order=LONE),
    ],
)
def test_a_lone_surrogate_is_an_envelope_error(call):
    with pytest.raises(EnvelopeError):
        call()


@pytest.mark.parametrize("read", [mp.SM2PrivateKey.from_string, mp.SM2PublicKey.from_string])
def test_a_key_text_with_a_lone_surrogate_is_a_key_format_error(read):
    with pytest.raises(KeyFormatError):
        read("04" + LONE)


def test_a_lone_surrogate_in_a_batch_is_that_items_error():
    good = THEIRS.pack_json({"a": "1"})
    out = OURS.unpack_many([good, '{"code":0,"message":"%s"}' % LONE, good], require_signature=False)
    assert isinstance(out[1], EnvelopeError) and out[0].data == out[2].data
    out = THEIRS.pack_many([{"a": "1"}, {"a": LONE}])
    assert isinstance(out[0], bytes) and isinstance(out[1], EnvelopeError)


@pytest.mark.parametrize("enc", [5, 1.5, True, ["AB"], {"x": "AB"}, b"AB"])
@pytest.mark.parametrize("require_signature", [True, False])
def test_an_encdata_that_is_not_a_string_is_an_envelope_error(enc, require_signature):
    env = THEIRS.pack({"a": "1"})
    env["encData"] = enc
    with pytest.raises(MedpayError) as e:
        OURS.unpack(env, require_signature=require_signature)
    assert isinstance(e.value, EnvelopeError)
    unsigned = {"code": 0, "encData": enc}
    with pytest.raises(EnvelopeError):
        OURS.unpack(unsigned, require_signature=False)
    (out,) = OURS.unpack_many([unsigned], require_signature=False)
    assert isinstance(out, EnvelopeError)


# --- F8: the memory an unauthenticated message costs ---------------------------------

RSS_PROBE = textwrap.dedent(
    """
    import resource, sys
    import medpay_core as mp

    APP_ID, SECRET = "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"
    inst, center = mp.SM2PrivateKey.from_string(sys.argv[1]), mp.SM2PublicKey.from_string(sys.argv[2])
    ours = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, center))
    with open(sys.argv[3], "rb") as f:
        body = f.read()
    ours.unpack(b'{"code":0,"message":"warm up"}', require_signature=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        ours.unpack(body)
    except mp.SignatureError:
        pass
    else:
        raise SystemExit("a junk signature verified")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) * 1024)
    """
)


def test_a_junk_signed_large_message_costs_memory_in_proportion_to_its_bytes(tmp_path):
    # Many small members: the shape whose Python objects cost the most per byte.
    item = '{"a":1,"b":"x","c":[0,1],"d":null,"e":true}'
    text = '{"list":[' + ",".join([item] * (3 * 1024 * 1024 // len(item))) + "]}"
    body = sealed(text)
    path = tmp_path / "body.json"
    path.write_bytes(body)
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, INST.to_hex(), CENTER.public_key().to_hex(), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    growth = int(out.stdout)
    # The body is hex (twice the text); building the text's Python objects first would
    # cost some 60 times the text. Verifying first costs a few copies of it.
    assert growth < 4 * len(body), (len(body), growth)
