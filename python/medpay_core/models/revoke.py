"""6401: revoke an uploaded, unsettled fee upload (费用明细上传撤销), endpoint
``revoke_order``."""

from __future__ import annotations

from typing import Optional

from ._base import InboundModel, WireModel, flag, nested, text
from ._common import UnionPayExpContent

__all__ = ["RevokeExpContent", "RevokeRequest", "RevokeResponse"]


class RevokeExpContent(UnionPayExpContent):
    """6401 ``expContent`` (table 22): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> RevokeExpContent(merchant_no="M1", terminal_no="T1", isv_no="I1").merchant_no
    'M1'
    """


class RevokeRequest(WireModel):
    """6401 input, table 21 (``data``), with ``expContent`` (table 22).

    >>> RevokeRequest(pay_ord_id="ORD1", org_codg="H35010200001", pay_token="TK1",
    ...     id_no="350181199011193519", user_name="张三", id_type="01").to_wire()["payToken"]
    'TK1'
    """

    pay_ord_id: str = text("payOrdId", 40, "支付订单号 (from 6201)", required=True)
    org_codg: str = text("orgCodg", 40, "机构编号", required=True)
    pay_token: str = text("payToken", 40, "支付token (from 6201)", required=True)
    id_no: str = text("idNo", 40, "证件号码", required=True)
    user_name: str = text("userName", 40, "用户姓名", required=True)
    id_type: str = text("idType", 3, "证件类别 (dictionary psn_cert_type)", required=True)
    exp_content: Optional[RevokeExpContent] = nested("expContent", "扩展数据 (table 22)",
                                                     max_length=4000)


class RevokeResponse(InboundModel):
    """6401 output, table 279 (``data``): ``success``.

    >>> RevokeResponse.from_wire({"success": "true"}).success
    True
    """


    success: bool = flag("success", "结果", required=True)
