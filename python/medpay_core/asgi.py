"""An ASGI app (Starlette) for what the center sends: the 6302 notice and the 6204
redirect page. Needs the ``server`` extra (``pip install medpay-core[server]``).

>>> import medpay_core as mp
>>> from medpay_core.asgi import create_app
>>> inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
>>> codec = mp.EnvelopeCodec(mp.Credentials("APP1000000000000", "S" * 32, inst, center.public_key()))
>>> app = create_app(codec, lambda notice: None, store=mp.MemoryNoticeStore())
>>> [r.path for r in app.routes]
['/medpay/notify', '/medpay/return']

Run it with ``uvicorn mymodule:app``, or mount it in FastAPI with
``fastapi_app.mount("/pay", app)`` (the paths are then ``/pay/medpay/notify`` ...).
"""

from __future__ import annotations

import html
import inspect
import logging
import os
from pathlib import Path
from decimal import Decimal
from typing import Any, Awaitable, Callable, Optional, Union

import anyio.from_thread
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .errors import UnknownAppIdError
from .callbacks import (
    NoticeStore,
    SQLiteNoticeStore,
    ReplyForm,
    _codecs_by_app_id,
    check_reply_form,
    decode_order_sync,
    handle_settlement_notice,
)
from .errors import MedpayError
from .models import OrderSyncNotice

__all__ = ["create_app", "default_store_path"]

log = logging.getLogger("medpay.asgi")

#: Largest 6302 body read; a notice is a few KB.
MAX_NOTICE_BYTES = 1024 * 1024


async def read_body(request: Request, limit: int = MAX_NOTICE_BYTES) -> Optional[bytes]:
    """The body, or None once it is past ``limit`` bytes: refused as it streams in, so a
    huge upload never sits in memory (a declared Content-Length over the limit is refused
    before a byte is read). The sandbox's app reads its bodies with it too.

    >>> # body = await read_body(request)    # None: answer 413
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The redirect URL carries encData: do not hand it to other sites as a Referer.
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em auto;max-width:32em;padding:0 1em}"
        "table{border-collapse:collapse;width:100%}td{padding:.4em;border-bottom:1px solid #ddd}"
        "td:last-child{text-align:right}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=_HEADERS)


_ROWS = [
    ("payOrdId", "支付订单号"),
    ("medOrgOrd", "医院订单号"),
    ("feeSumamt", "费用总金额"),
    ("fundPay", "医保基金支付"),
    ("psnAcctPay", "个人账户支付"),
    ("ownPayAmt", "现金自付"),
    ("othFeeAmt", "其他支付金额"),
    ("deposit", "住院押金"),
]


def _result_page(notice: OrderSyncNotice, chnl_type: Optional[str]) -> HTMLResponse:
    wire = notice.to_wire()
    rows = []
    for key, label in _ROWS:
        value = wire.get(key)
        if value is None:
            continue
        text = f"{value} 元" if isinstance(value, Decimal) else str(value)
        rows.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(text)}</td></tr>")
    channel = f"<p>支付渠道：{html.escape(chnl_type)}</p>" if chnl_type else ""
    body = (
        "<p>医保部分已确认，请完成自费部分支付。</p>"
        f"<table>{''.join(rows)}</table>{channel}"
        "<p><small>最终结算结果以医保结算通知为准。</small></p>"
    )
    return _page("医保订单信息", body)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    return await run_in_threadpool(fn, *args)


def default_store_path() -> Path:
    """Where :func:`create_app` keeps processed notices when given no store:
    ``$MEDPAY_NOTICE_STORE``, else ``$XDG_STATE_HOME/medpay/notices.sqlite3`` (by default
    ``~/.local/state/medpay/notices.sqlite3``). A file, so a restarted server still knows
    what it processed (a store in memory would process every redelivered notice again).

    >>> import os; os.environ["MEDPAY_NOTICE_STORE"] = "/var/lib/his/notices.sqlite3"
    >>> str(default_store_path())
    '/var/lib/his/notices.sqlite3'
    >>> del os.environ["MEDPAY_NOTICE_STORE"]
    """
    explicit = os.environ.get("MEDPAY_NOTICE_STORE")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "medpay" / "notices.sqlite3"


def create_app(
    codec_or_codecs: Any,
    on_notice: Union[Callable[..., object], Callable[..., Awaitable[object]]],
    *,
    store: Optional[NoticeStore] = None,
    on_order_sync: Optional[Callable[[OrderSyncNotice, dict[str, str]], Any]] = None,
    notice_path: str = "/medpay/notify",
    return_path: str = "/medpay/return",
    allow_plain: bool = False,
    reply_form: ReplyForm = "nested",
) -> Starlette:
    """The ASGI app: ``POST notice_path`` handles 6302 (see
    :func:`medpay_core.callbacks.handle_settlement_notice`); ``GET/POST return_path`` is
    the 6204 redirect page.

    ``codec_or_codecs``: our EnvelopeCodec/Credentials, or several (a list or a mapping)
    when the institution holds several appIds, or, for a gateway of hundreds, a resolver
    ``appId -> credentials or None`` (or :class:`~medpay_core.credentials.Institutions`),
    called once per appId; notices and redirects pick theirs by appId.
    ``on_notice(notice)`` may be sync (run in a worker thread) or async; with a
    transactional store (:class:`~medpay_core.notice_store_pg.PostgresNoticeStore`) it is
    ``on_notice(notice, conn)`` and writes in the claim's transaction.
    ``store``: processed notices, keyed by appId + payOrdId + callType. Default: an
    :class:`SQLiteNoticeStore` at :func:`default_store_path` (kept across restarts; safe
    for ``uvicorn --workers`` on one machine). Several machines: a ``PostgresNoticeStore``.
    ``on_order_sync(notice, query)`` (sync or async) runs on each 6204 redirect, e.g. to
    place the third-party order for ``query["chnlType"]``: return a Starlette
    ``Response`` (a redirect to the WeChat/Alipay cashier) or None for the default page.
    ``reply_form``: the 6302 reply your center reads, ``"nested"`` (default,
    ``{"code":"0","msg":...,"data":{"success":...}}``) or ``"flat"``
    (``{"success":...,"message":...}``); checked here, so a typo fails at start-up.

    >>> # app = create_app(codec, record_settlement, store=SQLiteNoticeStore("/var/lib/his/notices.db"),
    >>> #                  reply_form="flat")
    >>> # uvicorn.run(app, host="0.0.0.0", port=8080)
    """
    check_reply_form(reply_form)
    codecs = _codecs_by_app_id(codec_or_codecs)
    if store is None:
        path = default_store_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        log.info("6302 notices are remembered in %s", path)
        store = SQLiteNoticeStore(path)
    notice_store: NoticeStore = store

    sync_notice: Callable[..., object]
    if inspect.iscoroutinefunction(on_notice):
        async_notice = on_notice

        def hop_to_the_loop(*args: Any) -> object:
            # handle_settlement_notice runs in a worker thread; hop back to the loop.
            return anyio.from_thread.run(async_notice, *args)

        sync_notice = hop_to_the_loop
    else:
        sync_notice = on_notice

    async def notify(request: Request) -> Response:
        body = await read_body(request)
        if body is None:
            return Response(b"", status_code=413)
        reply = await run_in_threadpool(
            handle_settlement_notice,
            body,
            codecs,
            sync_notice,
            store=notice_store,
            allow_plain=allow_plain,
            reply_form=reply_form,
        )
        return Response(reply, media_type="application/json;charset=UTF-8", headers={"Cache-Control": "no-store"})

    async def order_return(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            # The spec's page "submits the three parameters to the backend": accept a
            # urlencoded form too (parsed here: Starlette's form parser needs python-multipart).
            body = await read_body(request)
            if body is None:
                return _page("无法识别的订单", "<p>提交的内容过大，请返回重试。</p>", 413)
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            notice = decode_order_sync(params, codecs)
        except UnknownAppIdError:
            return _page("无法识别的订单", "<p>未知的应用（mpcAppId）。</p>", 400)
        except MedpayError as e:
            log.warning("6204 redirect refused: %s", type(e).__name__)
            return _page("无法识别的订单", "<p>订单信息无效或已损坏，请返回重试。</p>", 400)
        if on_order_sync is not None:
            result = await _call(on_order_sync, notice, params)
            if isinstance(result, Response):
                return result
        return _result_page(notice, params.get("chnlType"))

    app = Starlette(
        routes=[
            Route(notice_path, notify, methods=["POST"]),
            Route(return_path, order_return, methods=["GET", "POST"]),
        ]
    )
    app.state.medpay_store = notice_store
    return app
