"""The sandbox as an ASGI app (Starlette). Routes:

======================================  ==============================================
POST /org/local/api/hos/<path>          every transaction the institution posts: the
                                        paths of ``medpay_core.models.BY_PATH``
GET  /sandbox/cashier?payOrdId=…        the cashier page (6201's cashierUrl, with the
     &chnlAppId=…&chnlEncData=…          institution's chnlAppId/chnlEncData appended)
POST /sandbox/cashier/pay               the cashier's pay button -> 303 to returnUrl (6204)
GET|POST /sandbox/voucher               the e-voucher page: issues a payAuthNo + QR text
GET  /sandbox/orders/<payOrdId>         an order's state (JSON; sandbox only, no auth)
GET  /sandbox/events?after=N            the event log (JSON)
POST /sandbox/notices/<payOrdId>/retry  requeue a FAILED 6302 notice
GET  /sandbox/health                    {"ok": true}
======================================  ==============================================
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, AsyncIterator, Mapping, Optional, Union

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..asgi import read_body
from ..pages import render_message_page
from . import codes
from .center import EventHook
from .config import SandboxConfig
from .service import API_PREFIX, CASHIER_PATH, CASHIER_PAY_PATH, VOUCHER_PATH, Reply, Sandbox

MAX_BODY = 8 * 1024 * 1024


def _response(r: Reply) -> Response:
    return Response(r.body, status_code=r.status, media_type=r.content_type, headers=r.headers)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def create_sandbox_app(
    config: Union[SandboxConfig, Mapping[str, Any], str, "os.PathLike[str]"],
    db_path: str,
    *,
    on_event: Optional[EventHook] = None,
) -> Starlette:
    """The sandbox ASGI app. ``config`` is a :class:`SandboxConfig`, a config dict or
    the path of a config file; ``db_path`` the SQLite file (created if missing).
    ``on_event(kind, payOrdId, detail)`` hears every state change. The notice worker
    runs while the app's lifespan does; ``app.state.sandbox`` is the :class:`Sandbox`.

    >>> import tempfile, os
    >>> from medpay_core.sandbox import generate_config
    >>> app = create_sandbox_app(generate_config(), os.path.join(tempfile.mkdtemp(), "center.db"))
    >>> app.state.sandbox.config.strict_auth
    False
    """
    sandbox = Sandbox(config, db_path, on_event=on_event)

    async def api(request: Request) -> Response:
        body = await read_body(request, MAX_BODY)
        if body is None:
            return JSONResponse({"code": codes.BAD_ENVELOPE, "message": f"body over {MAX_BODY} bytes",
                                 "success": False}, status_code=413)
        reply = await run_in_threadpool(sandbox.handle_api, request.path_params["name"], body, _base_url(request))
        return _response(reply)

    async def cashier(request: Request) -> Response:
        reply = await run_in_threadpool(sandbox.cashier_page, str(request.url), dict(request.query_params))
        return _response(reply)

    async def cashier_pay(request: Request) -> Response:
        body = await read_body(request, MAX_BODY)
        if body is None:
            return HTMLResponse(render_message_page("too_large"), status_code=413)
        return _response(await run_in_threadpool(sandbox.cashier_pay, body))

    async def voucher(request: Request) -> Response:
        body = await read_body(request, MAX_BODY) if request.method == "POST" else b""
        accept_json = "application/json" in request.headers.get("accept", "") or \
            request.query_params.get("format") == "json"
        return _response(await run_in_threadpool(sandbox.voucher_page, request.method, body or b"", accept_json))

    async def order(request: Request) -> Response:
        state = await run_in_threadpool(sandbox.order_state, request.path_params["pay_ord_id"])
        if state is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        return JSONResponse(state)

    async def events(request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            after = 0
        return JSONResponse(await run_in_threadpool(sandbox.events, after))

    async def retry(request: Request) -> Response:
        ok = await run_in_threadpool(sandbox.notifier.retry, request.path_params["pay_ord_id"])
        return JSONResponse({"requeued": ok}, status_code=200 if ok else 404)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox.start()
        try:
            yield
        finally:
            await run_in_threadpool(sandbox.close)

    async def not_found(request: Request, exc: Exception) -> Response:
        # A patient who mistypes or follows a stale link gets a page, a program JSON.
        if request.url.path.startswith(("/sandbox/cashier", "/sandbox/voucher")) or \
                "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(render_message_page("page_not_found"), status_code=getattr(exc, "status_code", 404))
        return JSONResponse({"error": "not found"}, status_code=getattr(exc, "status_code", 404))

    app = Starlette(
        exception_handlers={404: not_found, 405: not_found},
        routes=[
            Route(API_PREFIX + "{name}", api, methods=["POST"]),
            Route(CASHIER_PATH, cashier, methods=["GET"]),
            Route(CASHIER_PAY_PATH, cashier_pay, methods=["POST"]),
            Route(VOUCHER_PATH, voucher, methods=["GET", "POST"]),
            Route("/sandbox/orders/{pay_ord_id}", order, methods=["GET"]),
            Route("/sandbox/events", events, methods=["GET"]),
            Route("/sandbox/notices/{pay_ord_id}/retry", retry, methods=["POST"]),
            Route("/sandbox/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
