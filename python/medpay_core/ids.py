"""Unique request ids for the fields the spec wants unique per request.

``orgBizSer`` (6202, 6205: 业务流水号, "unique for every request", String(40)) and
``appRefdSn`` (6203: 应用退款流水号, String(40)) are chosen by the institution. The ids
made here are a UTC timestamp to the millisecond (so they sort and are readable in a
log) followed by 64 random bits (so two processes or hosts never collide), letters and
digits only (centers differ in what punctuation they accept), at most 40 characters.

>>> from medpay_core.ids import new_org_biz_ser, new_app_refd_sn
>>> s = new_org_biz_ser()
>>> len(s) <= 40 and s.isalnum()
True
>>> new_app_refd_sn(prefix="RF").startswith("RF")
True
"""

from __future__ import annotations

import datetime as _dt
import secrets

__all__ = ["new_org_biz_ser", "new_app_refd_sn", "new_id", "MAX_ID_LENGTH"]

#: The spec's length of orgBizSer and appRefdSn.
MAX_ID_LENGTH = 40

# 17 digits of time + 16 hex digits of randomness = 33 characters; 7 are left for a prefix.
_TIME_FORMAT = "%Y%m%d%H%M%S"
_RANDOM_HEX = 16


def new_id(prefix: str = "", *, max_length: int = MAX_ID_LENGTH) -> str:
    """A unique id: ``prefix`` + ``yyyyMMddHHmmssSSS`` (UTC) + 16 uppercase hex digits.

    ``prefix`` must be letters and digits and leave room for the 33 generated characters
    within ``max_length``.

    >>> len(new_id("ABC"))
    36
    """
    if prefix and not (prefix.isascii() and prefix.isalnum()):
        raise ValueError("an id prefix is ASCII letters and digits only")
    now = _dt.datetime.now(_dt.timezone.utc)
    body = now.strftime(_TIME_FORMAT) + f"{now.microsecond // 1000:03d}" + secrets.token_hex(_RANDOM_HEX // 2).upper()
    ident = prefix + body
    if len(ident) > max_length:
        raise ValueError(f"prefix {prefix!r} is too long: ids are at most {max_length} characters")
    return ident


def new_org_biz_ser(prefix: str = "") -> str:
    """A new ``orgBizSer`` (6202/6205), unique per request, at most 40 characters.

    >>> len(new_org_biz_ser("PAY")) <= 40
    True
    """
    return new_id(prefix)


def new_app_refd_sn(prefix: str = "") -> str:
    """A new ``appRefdSn`` (6203), unique per refund, at most 40 characters.

    >>> new_app_refd_sn() != new_app_refd_sn()
    True
    """
    return new_id(prefix)
