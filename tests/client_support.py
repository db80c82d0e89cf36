"""Helpers of the client tests: the async client driven from synchronous test code (so
every client test runs for both clients), center behaviours tests/center_server.py does
not have, probes of what the installed native module can do, and a check that an error
carries only the attributes its class declares."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, Optional, Union

import center_server as cs
import httpx

import medpay_core as mp
from medpay_core.client import AsyncMedpayClient, MedpayClient

#: An appSecret that is not the center's: answers sealed with it do not decrypt.
OTHER_SECRET = "9Z452H9B30LP3F60C80A0000AB8B7399"

#: The patient's data in the sample requests: never in a message, log or repr.
PERSONAL = ("150204198912131512", "张三")


class AsyncAsSync:
    """An :class:`AsyncMedpayClient` called like a :class:`MedpayClient`: each coroutine
    method runs to its end on this object's own event loop (httpx's async client stays
    on the loop it started on)."""

    def __init__(self, client: AsyncMedpayClient):
        self.client = client
        self._loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self._loop.run_until_complete(attr(*a, **kw))
        return attr

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self.client.aclose())
            self._loop.close()

    def __enter__(self) -> "AsyncAsSync":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


Client = Union[MedpayClient, AsyncAsSync]


#: The clients every client test runs with: each client with its default transport, the
#: async one with aiohttp, and both with an httpx client of the caller's.
KINDS = ["sync", "async", "async-aiohttp", "sync-httpx", "async-httpx"]


def open_client(kind: str, url: str, credentials: Any, **kw: Any) -> Client:
    """A client of one of :data:`KINDS` (an async one behind :class:`AsyncAsSync`); quick
    backoff."""
    kw.setdefault("timeout", 10.0)
    kw.setdefault("backoff", 0.01)
    if kind == "sync-httpx":
        kw["transport"] = mp.HttpxTransport(httpx.Client(trust_env=False))
    elif kind == "async-httpx":
        kw["transport"] = mp.AsyncHttpxTransport(httpx.AsyncClient(trust_env=False))
    elif kind == "async-aiohttp":
        kw["transport"] = mp.AiohttpTransport()
    if kind.startswith("sync"):
        return MedpayClient(url, credentials, **kw)
    return AsyncAsSync(AsyncMedpayClient(url, credentials, **kw))


# -- behaviours -------------------------------------------------------------------------


def sealed_with_other_secret(code: Any = 1004, message: Optional[str] = "解密失败") -> cs.Behaviour:
    """A signed answer whose encData is sealed under another appSecret (what a client with
    a wrong appSecret gets), with a plain-text code and message (omitted when None)."""

    def run(center: cs.LocalCenter, h: Any, req: Any) -> None:
        other = mp.EnvelopeCodec(mp.Credentials(center.app_id, OTHER_SECRET, center.center_key,
                                                center.inst_key.public_key()))
        fields = {k: v for k, v in (("code", code), ("message", message), ("success", False)) if v is not None}
        h.reply(200, other.pack_json({}, **fields))

    return run


def signature_stripped(data: Optional[dict] = None) -> cs.Behaviour:
    """A complete success envelope (encData, timestamp, version, code 0) whose signData
    was removed: a forged or tampered success."""

    def run(center: cs.LocalCenter, h: Any, req: Any) -> None:
        payload = cs.default_response(h.endpoint, req) if data is None else data
        env = center.codec.pack(payload, code=0, message="成功", success=True)
        del env["signData"]
        h.reply(200, json.dumps(env, ensure_ascii=False).encode())

    return run


def string_code_zero(data: dict) -> cs.Behaviour:
    """A signed success whose code is the string "0" and success a boolean."""

    def run(center: cs.LocalCenter, h: Any, req: Any) -> None:
        h.reply(200, center.codec.pack_json(data, code="0", message="成功", success=True))

    return run


def duplicate_code(app_id: str) -> cs.Behaviour:
    """An unsigned answer with ``code`` twice (0, then -1): one JSON parser refuses it;
    a second, lenient one would read the last."""

    def run(center: cs.LocalCenter, h: Any, req: Any) -> None:
        h.reply(200, ('{"appId": "%s", "code": 0, "message": "成功", "code": -1}' % app_id).encode())

    return run


# -- what the installed native module does ----------------------------------------------------


def _codecs() -> tuple[mp.EnvelopeCodec, mp.EnvelopeCodec]:
    ours, theirs = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
    inst = mp.EnvelopeCodec(mp.Credentials(cs.APP_ID, cs.APP_SECRET, ours, theirs.public_key()))
    other = mp.EnvelopeCodec(mp.Credentials(cs.APP_ID, OTHER_SECRET, theirs, ours.public_key()))
    return inst, other


def native_reads_bare_refusals() -> bool:
    """Whether ``unpack(body, require_signature=False)`` reads a bare unsigned refusal
    (``{"code": -1, "message": ...}``, no appId): the Rust change of issue 11."""
    inst, _ = _codecs()
    try:
        msg = inst.unpack('{"code": -1, "message": "appId不存在"}'.encode(), require_signature=False)
    except mp.EnvelopeError:
        return False
    return not msg.signed and msg.code == -1


def native_decrypt_error_has_center_code() -> bool:
    """Whether a DecryptError of the native module carries the envelope's plain-text code
    (``center_code``): the Rust change of issue 11."""
    inst, other = _codecs()
    try:
        inst.unpack(other.pack_json({}, code=1004, message="解密失败", success=False))
    except mp.DecryptError as e:
        return e.center_code == 1004
    return False


WAITS_FOR_RUST_UNSIGNED = "waits for the Rust change: unpack(require_signature=False) of a bare unsigned refusal"
WAITS_FOR_RUST_CENTER_CODE = "waits for the Rust change: DecryptError(center_code=..., center_message=...)"


# -- errors --------------------------------------------------------------------------------


def declared_attributes(cls: type) -> set[str]:
    """The attributes an error class declares (class-level annotations, over its bases)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(vars(klass).get("__annotations__", {}))
    return names


def assert_declared(err: BaseException) -> None:
    """``err`` carries no attribute its class does not declare (none added after it was
    made) and is of a class defined in medpay_core.errors (none made on the fly)."""
    assert type(err).__module__ == "medpay_core.errors", type(err)
    assert getattr(mp.errors, type(err).__name__) is type(err)
    extra = set(vars(err)) - declared_attributes(type(err)) - {"__notes__"}
    assert not extra, f"{type(err).__name__} carries undeclared attributes {sorted(extra)}"


def assert_no_personal_data(*texts: str) -> None:
    for text in texts:
        for item in PERSONAL:
            assert item not in text

