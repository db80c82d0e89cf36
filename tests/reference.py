"""An independent reference of the envelope protocol, for property tests.

Built only on the pure-Python ``gmssl`` package (SM2, SM3, SM4) and the standard
library's ``json``, straight from docs/protocol.md, sharing no code with medpay. Decimals are
carried by ``json`` with ``parse_float=Decimal``; output uses a small encoder that writes
Decimals by their literal.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from gmssl import sm2 as g_sm2
from gmssl import sm3 as g_sm3
from gmssl import sm4 as g_sm4
from gmssl import func as g_func

EXCLUDED = {"signData", "encData", "extra"}


# -- JSON ---------------------------------------------------------------------------------

def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers (and -0) as Decimal with their literal."""
    return json.loads(text, parse_float=Decimal, parse_int=lambda s: Decimal(s) if s == "-0" else int(s))


def _literal(x: Any, java: bool = False) -> str:
    """A number or boolean's JSON text; ``java``: a decimal as BigDecimal.toString()."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, Decimal):
        return java_decimal(x) if java else str(x)
    raise TypeError(type(x))


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII raw, Decimals by their literal."""
    if value is None or isinstance(value, (bool, int, Decimal)):
        return "null" if value is None else _literal(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + dumps(v) for k, v in value.items()) + "}"
    raise TypeError(type(value))


# -- sign text (docs/protocol.md, "The sign text") --------------------------------------

class Unsignable(ValueError):
    """Data the center's SDK throws on (a null element; "" followed by a non-"" element)."""


def java_decimal(d: Decimal) -> str:
    """BigDecimal.toString(): Python's to-scientific-string is the same algorithm (both
    follow the General Decimal Arithmetic spec), except that Java has no negative zero."""
    return str(abs(d)) if d == 0 else str(d)


def fastjson1_string(s: str) -> str:
    """A JSON string as fastjson 1.2.18+ writes it: short escapes for the usual five,
    other C0 controls, U+007F..U+009F, U+2028 and U+2029 as uppercase \\uXXXX."""
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for c in s:
        if c in short:
            out.append(short[c])
        elif ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029":
            out.append("\\u%04X" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _utf16(s: str) -> bytes:
    # Java compares strings by UTF-16 code units; big-endian bytes sort the same way.
    return s.encode("utf-16-be")


def _fold(unit: str) -> str:
    up = unit.upper() if len(unit.upper()) == 1 else unit
    return up.lower() if len(up.lower()) == 1 else up


def java_case_insensitive_key(s: str):
    """A sort key for Java's String.CASE_INSENSITIVE_ORDER (ties ordinal)."""
    return ("".join(_fold(c) for c in s).encode("utf-16-be"), _utf16(s))


def canonical_json(value: Any, strict: bool = False) -> str:
    """The canonical JSON of a nested value. ``strict``: raise Unsignable where the SDK
    throws; otherwise those elements are left out (what a lenient receiver rebuilds)."""
    if isinstance(value, dict):
        parts = []
        for k in sorted(value, key=_utf16):
            v = value[k]
            if v is None or v == "" or (isinstance(v, list) and not v):
                continue
            parts.append(fastjson1_string(k) + ":" + canonical_json(v, strict))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        parts = []
        for i, v in enumerate(value):
            if v is None or (v == "" and any(w != "" for w in value[i + 1:])):
                if strict:
                    raise Unsignable(f"[{i}]")
                continue
            if v == "":
                continue
            parts.append("null" if isinstance(v, list) and not v else canonical_json(v, strict))
        return "[" + ",".join(parts) + "]"
    if isinstance(value, str):
        return fastjson1_string(value)
    return '"' + _literal(value, java=True) + '"'


def sign_text(message: dict, app_secret: str, strict: bool = False) -> str:
    entries = []
    for k, v in message.items():
        if k in EXCLUDED or v is None or v == "":
            continue
        if isinstance(v, list) and not v:
            r = "null"
        elif isinstance(v, (dict, list)):
            r = canonical_json(v, strict)
        elif isinstance(v, str):
            r = v
        else:
            r = _literal(v, java=True)
        # Java's String.trim() strips every character up to U+0020.
        if r.lstrip("".join(map(chr, range(0x21)))) == "" or r == "null":
            continue
        entries.append(f"{k}={r}&")
    entries.sort(key=java_case_insensitive_key)
    return "".join(entries) + "key=" + app_secret


# -- SM4 data key and encData (docs/protocol.md §4) -------------------------------------------

def sm4_ecb(key: bytes, data: bytes, encrypt: bool) -> bytes:
    c = g_sm4.CryptSM4()
    c.set_key(key, g_sm4.SM4_ENCRYPT if encrypt else g_sm4.SM4_DECRYPT)
    return c.crypt_ecb(data)


def data_key(app_id: str, app_secret: str) -> bytes:
    c = sm4_ecb(app_id[:16].encode("ascii"), app_secret.encode("utf-8"), True)
    return c.hex().upper()[:32][:16].encode("ascii")


def encrypt_data(app_id: str, app_secret: str, data: Any) -> str:
    return sm4_ecb(data_key(app_id, app_secret), dumps(data).encode("utf-8"), True).hex().upper()


def decrypt_data(app_id: str, app_secret: str, enc: str) -> Any:
    return loads(sm4_ecb(data_key(app_id, app_secret), bytes.fromhex(enc), False).decode("utf-8"))


def sm3(data: bytes) -> bytes:
    return bytes.fromhex(g_sm3.sm3_hash(g_func.bytes_to_list(data)))


# -- SM2 (docs/protocol.md §3) ----------------------------------------------------------------

def _crypt(private_hex: str = "", public_xy_hex: str = "") -> g_sm2.CryptSM2:
    c = g_sm2.CryptSM2(private_key=private_hex, public_key="")
    # gmssl strips a leading "04" with lstrip, which corrupts keys whose X starts with
    # 0 or 4: set the X||Y hex directly.
    c.public_key = public_xy_hex
    return c


def sign(private_hex: str, public_hex: str, message: bytes) -> bytes:
    c = _crypt(private_hex, public_hex[2:] if len(public_hex) == 130 else public_hex)
    return bytes.fromhex(c.sign_with_sm3(message))


def verify(public_hex: str, message: bytes, signature: bytes) -> bool:
    c = _crypt("", public_hex[2:] if len(public_hex) == 130 else public_hex)
    return bool(c.verify_with_sm3(signature.hex(), message))


# -- envelopes ---------------------------------------------------------------------------

def pack(app_id: str, app_secret: str, private_hex: str, public_hex: str, data: Any,
         timestamp: str = "1692977670450", strict: bool = True, **fields: Any) -> dict:
    """An envelope as the center's SDK would seal it (``strict``: refuse what it throws on;
    ``strict=False`` signs the lenient text, as a peer that drops those elements would)."""
    msg = {"appId": app_id, "data": data, "encType": "SM4", "signType": "SM2",
           "timestamp": timestamp, "version": "2.0.1", **fields}
    text = sign_text(msg, app_secret, strict=strict)
    sig = sign(private_hex, public_hex, text.encode("utf-8"))
    env = {k: v for k, v in msg.items() if k != "data"}
    env["encData"] = encrypt_data(app_id, app_secret, data)
    env["signData"] = base64.b64encode(sig).decode()
    return env


def unpack(app_id: str, app_secret: str, peer_public_hex: str, envelope: dict) -> Any:
    data = decrypt_data(app_id, app_secret, envelope["encData"])
    msg = {k: v for k, v in envelope.items() if k not in ("encData",)}
    msg["data"] = data
    sig = base64.b64decode(envelope["signData"])
    if not verify(peer_public_hex, sign_text(msg, app_secret).encode("utf-8"), sig):
        raise ValueError("signature does not verify")
    return data
