"""An independent reference of the envelope protocol, for property tests.

Built only on the pure-Python ``gmssl`` package (SM2, SM3, SM4) and the standard
library's ``json``, straight from PROTOCOL.md, sharing no code with medpay. Decimals are
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


def _literal(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, Decimal):
        return str(x)
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


# -- sign text (PROTOCOL.md §2) ----------------------------------------------------------

def _canon(value: Any) -> Any:
    """Canonical nested value as plain Python: scalars become strings; dicts sorted, with
    null, "" and empty containers dropped; lists lose null and "" elements."""
    if isinstance(value, dict):
        out = {}
        for k in sorted(value, key=lambda s: s.encode("utf-8")):
            v = value[k]
            if v is None or v == "":
                continue
            c = _canon(v)
            if isinstance(c, (dict, list)) and not c:
                continue
            out[k] = c
        return out
    if isinstance(value, list):
        return [_canon(v) for v in value if v is not None and v != ""]
    if isinstance(value, str):
        return value
    return _literal(value)


def sign_text(message: dict, app_secret: str) -> str:
    parts = []
    for k in sorted(message, key=lambda s: s.encode("utf-8")):
        v = message[k]
        if k in EXCLUDED or v is None or v == "":
            continue
        if isinstance(v, (dict, list)):
            r = json.dumps(_canon(v), ensure_ascii=False, separators=(",", ":"))
        elif isinstance(v, str):
            r = v
        else:
            r = _literal(v)
        parts.append(f"{k}={r}")
    parts.append(f"key={app_secret}")
    return "&".join(parts)


# -- SM4 data key and encData (PROTOCOL.md §4) -------------------------------------------

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


# -- SM2 (PROTOCOL.md §3) ----------------------------------------------------------------

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
         timestamp: str = "1692977670450", **fields: Any) -> dict:
    msg = {"appId": app_id, "data": data, "encType": "SM4", "signType": "SM2",
           "timestamp": timestamp, "version": "2.0.1", **fields}
    text = sign_text(msg, app_secret)
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
