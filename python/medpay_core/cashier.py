"""The cashier URL of docs/protocol.md §6 (收银台拼接说明, after 6201).

6201 answers with a ``cashierUrl``; the institution opens it with two parameters added:
``chnlAppId`` (its appId) and ``chnlEncData``, the uppercase hex of SM4 (the data key of
docs/protocol.md §4) over the compact JSON ``{"payAuthNo":...,"deposit":...}``; ``deposit`` (the
inpatient deposit, yuan, 16,2) only when there is one.

The spec says to *append* ``&chnlAppId=...&chnlEncData=...`` to the URL. We append at the
very end of the string, exactly as the spec does, with one refinement: when the URL has
no ``?`` at all the first separator is ``?`` instead of ``&`` (otherwise the result would
not be a valid URL). Appending at the end (not parsing and rebuilding the query) is
deliberate: H5 cashiers are single-page apps whose query often sits after a ``#``
(``https://host/h5/#/pay?x=1``); their router reads the parameters there.

>>> import medpay_core as mp
>>> creds = mp.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5")
>>> url = cashier_url("https://mpc.example/h5/#/cashier?payOrdId=ORD1", creds, "AUTH1")
>>> p = decode_cashier_params(url, creds)
>>> p.pay_auth_no, p.deposit, p.base_url == "https://mpc.example/h5/#/cashier?payOrdId=ORD1"
('AUTH1', None, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Optional, Union
from urllib.parse import parse_qsl, quote

from .credentials import CredentialsLike, as_codec
from .errors import DecryptError, EnvelopeError
from .models import CashierEncData, validate

__all__ = ["cashier_url", "decode_cashier_params", "CashierParams"]


def _enc_data(pay_auth_no: Any, deposit: Any) -> CashierEncData:
    """The ``chnlEncData`` fields, checked by their model (payAuthNo required, at most 40
    characters; deposit 16,2, not negative, no float)."""
    return validate(CashierEncData, {"payAuthNo": pay_auth_no, "deposit": deposit})


def cashier_url(
    cashier_url: str,
    credentials: CredentialsLike,
    pay_auth_no: str,
    deposit: Union[Decimal, int, str, None] = None,
) -> str:
    """The URL to open the center's H5 cashier with (docs/protocol.md §6).

    ``cashier_url`` is 6201's ``cashierUrl``; ``credentials`` are the institution's
    (only appId and appSecret are used); ``pay_auth_no`` is the payAuthNo of the online
    authorisation; ``deposit`` the inpatient deposit in yuan (Decimal, int or str).

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5")
    >>> cashier_url("https://mpc.example/cashier", creds, "AUTH1").split("&")[0]
    'https://mpc.example/cashier?chnlAppId=43AF047BBA47FC8A1AE8EFB232BDBBCB'
    """
    if not isinstance(cashier_url, str) or not cashier_url:
        raise ValueError("cashier_url is the non-empty cashierUrl of 6201")
    codec = as_codec(credentials)
    enc = codec.encrypt_data(_enc_data(pay_auth_no, deposit).to_wire())
    app_id = codec.credentials.app_id
    if "?" not in cashier_url:
        sep = "?"
    elif cashier_url.endswith(("?", "&")):
        sep = ""
    else:
        sep = "&"
    return f"{cashier_url}{sep}chnlAppId={quote(app_id, safe='')}&chnlEncData={enc}"


@dataclass(frozen=True)
class CashierParams:
    """What :func:`decode_cashier_params` read from a cashier URL.

    ``base_url`` is the URL without the two parameters, so
    ``cashier_url(p.base_url, creds, p.pay_auth_no, p.deposit)`` rebuilds the URL.
    """

    base_url: str
    app_id: str
    pay_auth_no: str
    deposit: Optional[Decimal]
    data: Mapping[str, Any]


def decode_cashier_params(
    url: str,
    credentials: Union[CredentialsLike, Mapping[str, CredentialsLike]],
) -> CashierParams:
    """Inverse of :func:`cashier_url`, for the sandbox's cashier page: read ``chnlAppId``
    and ``chnlEncData`` from the end of ``url`` and decrypt with the credentials of
    that appId (``credentials`` is one Credentials/EnvelopeCodec or a mapping appId ->
    Credentials/EnvelopeCodec).

    Raises EnvelopeError when the parameters are missing or the appId is unknown,
    DecryptError when chnlEncData does not decrypt, ValidationError when it carries no
    payAuthNo.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5")
    >>> decode_cashier_params(cashier_url("https://x/c", creds, "A1", "12.50"), creds).deposit
    Decimal('12.50')
    """
    # The parameters were appended at the very end, possibly after a '#': read the text
    # after the last '?' rather than urllib's notion of "the query".
    q = url.rfind("?")
    if q < 0:
        raise EnvelopeError("the URL has no chnlAppId/chnlEncData parameters")
    head, query = url[: q + 1], url[q + 1 :]
    kept, app_id, enc = [], None, None
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        if name in ("chnlAppId", "chnlEncData"):
            value = dict(parse_qsl(part, keep_blank_values=True)).get(name, "")
            if name == "chnlAppId":
                app_id = value
            else:
                enc = value
        else:
            kept.append(part)
    if not app_id or not enc:
        raise EnvelopeError("the URL has no chnlAppId/chnlEncData parameters")
    base = head + "&".join(kept)
    if base.endswith("?") and not kept:
        base = base[:-1]
    if isinstance(credentials, Mapping):
        creds = credentials.get(app_id)
        if creds is None:
            raise EnvelopeError(f"unknown chnlAppId {app_id!r}")
    else:
        creds = credentials
    codec = as_codec(creds)
    if codec.credentials.app_id != app_id:
        raise EnvelopeError(f"chnlAppId {app_id!r} is not the appId of these credentials")
    data = codec.decrypt_data(enc)
    if not isinstance(data, dict):
        raise DecryptError("chnlEncData is not a JSON object")
    fields = _enc_data(data.get("payAuthNo"), data.get("deposit"))
    return CashierParams(base_url=base, app_id=app_id, pay_auth_no=fields.pay_auth_no, deposit=fields.deposit,
                         data=data)
