"""A sandbox of the medical-insurance mobile payment center (医保移动支付中心).

It serves the center's side of every transaction the institution posts (the paths of
``medpay_core.models.BY_PATH``), its cashier page, the 6204 redirect and the 6302
notice, with state in SQLite, so an institution's system can be tested end to end
without a real center::

    medpay sandbox --port 8000 --db sandbox.db

or in-process::

    from medpay_core.sandbox import SandboxServer
    with SandboxServer() as sb:
        client = MedpayClient(sb.url, sb.client_credentials())

The institution's side of a generated config is loaded with
:func:`institution_credentials` (also ``Credentials.from_sandbox_config``). How to run
it, what it checks and how it answers: docs/en/sandbox.md.

``create_sandbox_app(config, db_path)`` is the ASGI app (Starlette; the ``server``
extra), :mod:`.codes` the table of answer codes, :mod:`.split` how amounts are split.
"""

from __future__ import annotations

from typing import Any

from .codes import CODES, SandboxError
from .config import (
    Institution,
    NotifyPolicy,
    SandboxConfig,
    generate_config,
    institution_credentials,
    load_config,
    parse_config,
)
from .split import Ratios, Split, split_amount

__all__ = [
    "CODES",
    "SandboxError",
    "Institution",
    "NotifyPolicy",
    "SandboxConfig",
    "generate_config",
    "institution_credentials",
    "load_config",
    "parse_config",
    "Ratios",
    "Split",
    "split_amount",
    "create_sandbox_app",
    "SandboxServer",
    "Sandbox",
]


def __getattr__(name: str) -> Any:
    # Starlette and uvicorn are optional (the "server" extra): import them only when the
    # server is asked for, so the rest of the package works without them.
    if name == "create_sandbox_app":
        from .app import create_sandbox_app

        return create_sandbox_app
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    if name == "Sandbox":
        from .service import Sandbox

        return Sandbox
    raise AttributeError(name)
