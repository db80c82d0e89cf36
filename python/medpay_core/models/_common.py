"""The ``expContent`` object the requests share (tables 4, 9, 11, 16, 19, 22): the
UnionPay merchant, terminal and service-provider numbers for personal-account payment."""

from __future__ import annotations

from ._base import ExtModel, text

__all__ = ["ExpContent", "UnionPayExpContent"]


class UnionPayExpContent(ExtModel):
    """``expContent`` of a request: ``merchantNo``, ``terminalNo``, ``isvNo`` (values agreed
    with UnionPay), all required when ``expContent`` is sent. Other keys (the FSI
    extension fields the spec refers to) are kept as given.

    ``expContent`` is 字符型 4000 in the tables: it is accepted as its JSON text or as an
    object and checked the same way. A request sends it as it was given: the text
    verbatim (the center signs that very string), an object as an object. The limit of
    4000 characters applies to the text as given, or to an object's compact JSON text.

    >>> e = UnionPayExpContent(merchant_no="898350112340001", terminal_no="12345678",
    ...                        isv_no="ISV0001")
    >>> e.to_wire()
    {'merchantNo': '898350112340001', 'terminalNo': '12345678', 'isvNo': 'ISV0001'}
    >>> from medpay_core.models import RevokeRequest
    >>> text = '{"merchantNo": "898350112340001", "terminalNo": "12345678", "isvNo": "ISV0001"}'
    >>> RevokeRequest(pay_ord_id="ORD1", org_codg="H35010200001", pay_token="TK1", id_no="1",
    ...     user_name="张三", id_type="01", exp_content=text).to_wire()["expContent"] == text
    True
    """

    merchant_no: str = text("merchantNo", 20, "医保个账商户号", required=True)
    terminal_no: str = text("terminalNo", 8, "终端号", required=True)
    isv_no: str = text("isvNo", 20, "服务商号（渠道ID）", required=True)


class ExpContent(ExtModel):
    """An ``expContent`` the spec gives no table for (6201 fee lines, "refer to the FSI
    interface"): an open object, every key kept as given.

    >>> ExpContent.from_wire({"hospApprNo": "A1"}).to_wire()
    {'hospApprNo': 'A1'}
    """
