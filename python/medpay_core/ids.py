"""Unique request ids, and the spec's times in Beijing time.

``orgBizSer`` (6202, 6205: 业务流水号, "unique for every request", String(40)) and
``appRefdSn`` (6203: 应用退款流水号, String(40)) are chosen by the institution. The ids
made here are a Beijing-time timestamp to the millisecond (so they sort and read like the
center's own times in a log) followed by 64 random bits (so two processes or hosts never
collide), letters and digits only (centers differ in what punctuation they accept), at
most 40 characters.

The spec's times are local times of the center: Beijing time (Asia/Shanghai, UTC+8 all
year, no daylight saving). The helpers below write each of the spec's formats in Beijing
time whatever the machine's time zone, so a HIS in a UTC container does not send times
8 hours off. An aware ``datetime`` is converted to Beijing time; a naive one is taken as
a Beijing wall time already (medpay does not guess which zone a naive time was meant in).

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
from typing import Optional

__all__ = [
    "new_org_biz_ser",
    "new_app_refd_sn",
    "new_id",
    "MAX_ID_LENGTH",
    "BEIJING",
    "beijing_now",
    "to_beijing",
    "datetime_text",
    "date_text",
    "compact_datetime_text",
    "compact_date_text",
    "compact_time_text",
]

#: The spec's length of orgBizSer and appRefdSn.
MAX_ID_LENGTH = 40

#: Beijing time. A fixed offset is exact: China has kept UTC+8 without daylight saving
#: since 1991, and it needs no tz database (the tzdata package may be absent).
BEIJING = _dt.timezone(_dt.timedelta(hours=8), "Asia/Shanghai")

# 17 digits of time + 16 hex digits of randomness = 33 characters; 7 are left for a prefix.
_TIME_FORMAT = "%Y%m%d%H%M%S"
_RANDOM_HEX = 16


def beijing_now() -> _dt.datetime:
    """The current time in Beijing time (aware), whatever the machine's time zone.

    >>> beijing_now().utcoffset()
    datetime.timedelta(seconds=28800)
    """
    return _dt.datetime.now(BEIJING)


def to_beijing(t: Optional[_dt.datetime] = None) -> _dt.datetime:
    """``t`` in Beijing time (now when ``t`` is None): an aware datetime converted, a naive
    one taken as a Beijing wall time. Anything but a ``datetime`` is a ``TypeError``.

    >>> utc = _dt.datetime(2026, 11, 25, 2, 0, tzinfo=_dt.timezone.utc)
    >>> to_beijing(utc).strftime("%Y-%m-%d %H:%M")
    '2026-11-25 10:00'
    >>> to_beijing(_dt.datetime(2026, 11, 25, 10, 0)).strftime("%H:%M")
    '10:00'
    """
    if t is None:
        return beijing_now()
    if not isinstance(t, _dt.datetime):
        raise TypeError(f"a datetime is expected, not {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        return t.replace(tzinfo=BEIJING)
    return t.astimezone(BEIJING)


def datetime_text(t: Optional[_dt.datetime] = None) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time: ``feeOcurTime``, ``begntime``,
    ``diagTime``, ``endtime`` (6201) and ``traceTime``.

    >>> datetime_text(_dt.datetime(2026, 11, 25, 1, 40, 5, tzinfo=_dt.timezone.utc))
    '2026-11-25 09:40:05'
    """
    return to_beijing(t).strftime("%Y-%m-%d %H:%M:%S")


def date_text(t: Optional[_dt.datetime] = None) -> str:
    """``yyyy-MM-dd`` in Beijing time: ``birctrlMatnDate``, ``dieDate`` (6201).

    >>> date_text(_dt.datetime(2026, 11, 24, 16, 0, tzinfo=_dt.timezone.utc))
    '2026-11-25'
    """
    return to_beijing(t).strftime("%Y-%m-%d")


def compact_datetime_text(t: Optional[_dt.datetime] = None) -> str:
    """``yyyyMMddHHmmss`` in Beijing time: ``appRefdTime`` (6203).

    >>> compact_datetime_text(_dt.datetime(2026, 11, 25, 2, 30, tzinfo=_dt.timezone.utc))
    '20261125103000'
    """
    return to_beijing(t).strftime(_TIME_FORMAT)


def compact_date_text(t: Optional[_dt.datetime] = None) -> str:
    """``yyyyMMdd`` (the spec's 日期, §2.2.2.1) in Beijing time: ``hiTrnsDate`` (6203).

    >>> compact_date_text(_dt.datetime(2026, 11, 24, 16, 0, tzinfo=_dt.timezone.utc))
    '20261125'
    """
    return to_beijing(t).strftime("%Y%m%d")


def compact_time_text(t: Optional[_dt.datetime] = None) -> str:
    """``HHmmss`` (the spec's 时间, §2.2.2.1) in Beijing time: ``hiTrnsTime`` (6203),
    ``hiChrgTime`` (6301, 6302).

    >>> compact_time_text(_dt.datetime(2026, 11, 25, 2, 30, 5, tzinfo=_dt.timezone.utc))
    '103005'
    """
    return to_beijing(t).strftime("%H%M%S")


def new_id(prefix: str = "", *, max_length: int = MAX_ID_LENGTH) -> str:
    """A unique id: ``prefix`` + ``yyyyMMddHHmmssSSS`` (Beijing time) + 16 uppercase hex
    digits.

    ``prefix`` must be letters and digits and leave room for the 33 generated characters
    within ``max_length``.

    >>> len(new_id("ABC"))
    36
    """
    if prefix and not (prefix.isascii() and prefix.isalnum()):
        raise ValueError("an id prefix is ASCII letters and digits only")
    now = beijing_now()
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
