"""6101: decode the medical-insurance e-voucher QR code (解析医保电子凭证二维码).

The institution sends table 1 to the national e-voucher library/center and gets table 2.
"""

from __future__ import annotations

from typing import Optional

from ._base import InboundModel, WireModel, text

__all__ = ["VoucherDecodeRequest", "VoucherDecodeResponse"]


class VoucherDecodeRequest(WireModel):
    """6101 input, table 1 (InData).

    >>> req = VoucherDecodeRequest(org_id="H35010200001", business_type="01101",
    ...     operator_id="0001", operator_name="收费员", office_id="0101",
    ...     office_name="门诊收费处", device_type="SelfService")
    >>> req.to_wire()["businessType"]
    '01101'
    """

    org_id: str = text("orgId", 40, "机构ID", required=True)
    business_type: str = text("businessType", 5, "用码业务类型 (dictionary)", required=True)
    business_info: Optional[str] = text("businessInfo", 200, "用码业务信息")
    operator_id: str = text("operatorId", 20, "操作员工号", required=True)
    operator_name: str = text("operatorName", 30, "操作员姓名", required=True)
    office_id: str = text("officeId", 20, "医保科室编号", required=True)
    office_name: str = text("officeName", 30, "科室名称", required=True)
    device_type: Optional[str] = text("deviceType", 30, "设备类型: SelfService for kiosks",
                                      enum=("SelfService",))


class VoucherDecodeResponse(InboundModel):
    """6101 output, table 2 (OutData).

    >>> r = VoucherDecodeResponse.from_wire({"userName": "张三", "idNo": "350181199011193519",
    ...     "idType": "01", "ecToken": "350100ec0a8e2f5d4b8f9c7e6d5c4b3a2f1e", "insuOrg": "350100"})
    >>> r.ec_token[:6]
    '350100'
    """


    user_name: str = text("userName", 50, "用户姓名", required=True)
    id_no: str = text("idNo", 30, "证件号码", required=True)
    id_type: str = text("idType", 3, "证件类型 (dictionary)", required=True)
    ec_token: str = text("ecToken", 40, "身份核验令牌", required=True)
    insu_org: str = text("insuOrg", 6, "参保地行政区划", required=True)
    auth_no: Optional[str] = text("authNo", 40, "授权流水号")
    ec_index_no: Optional[str] = text("ecIndexNo", 32, "外部索引号 (reserved)")
    gender: Optional[str] = text("gender", 3, "性别 (reserved)")
    birthday: Optional[str] = text("birthday", 10, "出生日期 (reserved)")
    nationality: Optional[str] = text("nationality", 40, "国籍 (reserved)")
    email: Optional[str] = text("email", 40, "电子邮箱 (reserved)")
