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

import inspect
import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Union, cast

import anyio.from_thread
from urllib.parse import parse_qsl, urlencode

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
from .pages import ORDER_STATES, Branding, OrderState, TemplateArg, load_template, render_message_page, render_return_page

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


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


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
    order_state: Optional[Callable[[OrderSyncNotice], Union[OrderState, Awaitable[OrderState]]]] = None,
    branding: Optional[Branding] = None,
    return_template: TemplateArg = None,
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
    The default 6204 page (:func:`medpay_core.pages.render_return_page`) shows the order
    as ``order_state(notice)`` (sync or async) says: ``"paid"`` (say, your 6302 handler
    recorded it), ``"paying"``, ``"failed"`` or ``"unknown"`` (the default: "以医保结算通知
    为准", with a refresh button); ``branding`` (:class:`~medpay_core.pages.Branding`:
    name, logo, colour, the way back) and ``return_template`` (your own Jinja2 template)
    make it the institution's page.

    >>> # app = create_app(codec, record_settlement, store=SQLiteNoticeStore("/var/lib/his/notices.db"),
    >>> #                  reply_form="flat")
    >>> # uvicorn.run(app, host="0.0.0.0", port=8080)
    """
    check_reply_form(reply_form)
    codecs = _codecs_by_app_id(codec_or_codecs)
    page_template = load_template(return_template, "return.html")  # a bad path fails here, not per patient
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
                return _html(render_message_page("too_large"), 413)
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            notice = decode_order_sync(params, codecs)
        except UnknownAppIdError:
            # Which appId is for the log; the patient is told what to do.
            log.warning("6204 redirect refused: unknown mpcAppId %r", str(params.get("mpcAppId", ""))[:64])
            return _html(render_message_page("link_invalid"), 400)
        except MedpayError as e:
            log.warning("6204 redirect refused: %s", type(e).__name__)
            return _html(render_message_page("link_invalid"), 400)
        if on_order_sync is not None:
            result = await _call(on_order_sync, notice, params)
            if isinstance(result, Response):
                return result
        state: OrderState = "unknown"
        if order_state is not None:
            try:
                said = await _call(order_state, notice) or "unknown"
            except Exception:  # the patient still gets the page; the trace goes to the log
                log.exception("order_state failed for %s: the page says unknown", notice.pay_ord_id)
                said = "unknown"
            if said in ORDER_STATES:
                state = cast(OrderState, said)
            else:
                log.error("order_state returned %r, not one of %s: the page says unknown", said, ORDER_STATES)
        # "刷新结果" reloads this page by GET, also after a POSTed redirect; relative (a
        # query alone), so it stays right behind a proxy or a mount.
        refresh = "?" + urlencode([(k, params[k]) for k in ("mpcAppId", "encData", "chnlType") if k in params])
        return _html(render_return_page(notice, params.get("chnlType"), state=state, branding=branding,
                                        template=page_template, refresh_url=refresh))

    app = Starlette(
        routes=[
            Route(notice_path, notify, methods=["POST"]),
            Route(return_path, order_return, methods=["GET", "POST"]),
        ]
    )
    app.state.medpay_store = notice_store
    return app
