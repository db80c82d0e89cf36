"""Payment channels as a patient sees them: the 6204 ``chnlType`` codes, their names in
Chinese and the mark drawn for each (``templates/marks.html``). The one place that maps a
channel code to what the page shows.

>>> channel("wx").name, channel("ZFB").short_name
('微信支付', '支付宝')
>>> channel("SOMEPAY").name  # unknown codes are not shown raw to a patient
'其他支付方式'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Channel", "channel", "CASHIER_CHANNELS"]


@dataclass(frozen=True)
class Channel:
    """A channel: ``code`` as sent (``chnlType``), ``name`` for lists ("微信支付"),
    ``short_name`` for sentences ("微信"), ``mark`` the SVG macro that draws it."""

    code: str
    name: str
    short_name: str
    mark: str


_KNOWN = (
    Channel("WX", "微信支付", "微信", "wechat"),
    Channel("ZFB", "支付宝", "支付宝", "alipay"),
    Channel("YL", "银联云闪付", "银联", "unionpay"),
    Channel("BANK", "银行卡支付", "银行卡", "bankcard"),
)
_ALIASES = {"WECHAT": "WX", "WXPAY": "WX", "ALIPAY": "ZFB", "UNIONPAY": "YL", "YSF": "YL", "CARD": "BANK"}
_BY_CODE = {c.code: c for c in _KNOWN}

#: The channels the sandbox cashier offers (the 6204 chnlType values it sends).
CASHIER_CHANNELS = tuple(_BY_CODE[c] for c in ("WX", "ZFB", "YL"))


def channel(code: str) -> Channel:
    """The channel for a ``chnlType`` code (case-insensitive, common aliases too); an
    unknown code gets a generic name and mark, never the raw code.

    >>> channel("alipay").code
    'ZFB'
    """
    key = (code or "").strip().upper()
    found = _BY_CODE.get(_ALIASES.get(key, key))
    return found or Channel(key, "其他支付方式", "其他方式", "generic")
