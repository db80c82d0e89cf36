"""6201: upload the fee details (费用明细上传), endpoint ``uldFeeInfo``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional

from ..errors import FieldError
from ._base import InboundModel, WireModel, ExtData, amount, err, get, integer, items, nested, text
from ._common import ExpContent, UnionPayExpContent

__all__ = [
    "FeeUploadExpContent",
    "DiseInfo",
    "FeeDetail",
    "FeeUploadRequest",
    "FeeUploadResponse",
    "CashierEncData",
]


class FeeUploadExpContent(UnionPayExpContent):
    """6201 ``expContent`` (table 4): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> FeeUploadExpContent.from_wire('{"merchantNo":"898350112340001","terminalNo":"12345678",'
    ...     '"isvNo":"ISV0001"}').terminal_no
    '12345678'
    """


class DiseInfo(WireModel):
    """6201 diagnosis or symptom line, table 5 (``diseinfoList``).

    >>> d = DiseInfo(diag_type="1", diag_srt_no=1, diag_code="J06.900", diag_name="急性上呼吸道感染",
    ...     diag_dept="内科", dise_dor_no="D001", dise_dor_name="李医生",
    ...     diag_time="2026-11-25 09:30:00", vali_flag="1")
    >>> d.to_wire()["diagSrtNo"]
    1
    """

    diag_type: str = text("diagType", 3, "诊断类别 (dictionary diag_type)", required=True)
    diag_srt_no: int = integer("diagSrtNo", 2, "诊断排序号", required=True)
    diag_code: str = text("diagCode", 20, "诊断代码", required=True)
    diag_name: str = text("diagName", 100, "诊断名称", required=True)
    diag_dept: str = text("diagDept", 50, "诊断科室", required=True)
    dise_dor_no: str = text("diseDorNo", 30, "诊断医生编码", required=True)
    dise_dor_name: str = text("diseDorName", 50, "诊断医生姓名", required=True)
    diag_time: str = text("diagTime", 19, "诊断时间 yyyy-MM-dd HH:mm:ss", required=True,
                          fmt="datetime")
    vali_flag: str = text("valiFlag", 3, "有效标志", required=True)


class FeeDetail(WireModel):
    """6201 fee line, table 6 (``feedetailList``). Amounts are ``Decimal``: the line total
    ``16,2``, the count ``16,4``, the unit price ``16,6``.

    >>> from decimal import Decimal
    >>> line = FeeDetail(feedetl_sn="F001", psn_no="35000000000000000001", chrg_bchno="B20261125001",
    ...     rx_circ_flag="0", fee_ocur_time="2026-11-25 09:40:00", med_list_codg="XJ01CRA040A001010104384",
    ...     medins_list_codg="YP0001", det_item_fee_sumamt=Decimal("25.80"), cnt="2",
    ...     pric=Decimal("12.900000"), bilg_dept_codg="0101", bilg_dept_name="内科",
    ...     bilg_dr_codg="D001", bilg_dr_name="李医生", hosp_appr_flag="1", med_type="11",
    ...     med_list_name="阿莫西林胶囊", med_list_spc="0.25g*24粒")
    >>> line.cnt
    Decimal('2')
    """

    feedetl_sn: str = text("feedetlSn", 30, "费用明细流水号 (unique within the visit)", required=True)
    mdtrt_id: Optional[str] = text("mdtrtId", 30, "就诊ID")
    psn_no: str = text("psnNo", 30, "人员编号", required=True)
    chrg_bchno: str = text("chrgBchno", 30, "收费批次号", required=True)
    dise_codg: Optional[str] = text("diseCodg", 30, "病种编码")
    rxno: Optional[str] = text("rxno", 30, "处方号")
    rx_circ_flag: str = text("rxCircFlag", 3, "外购处方标志", required=True)
    fee_ocur_time: str = text("feeOcurTime", 19, "费用发生时间 yyyy-MM-dd HH:mm:ss", required=True,
                              fmt="datetime")
    med_list_codg: str = text("medListCodg", 50, "医疗目录编码", required=True)
    medins_list_codg: str = text("medinsListCodg", 150, "医药机构目录编码", required=True)
    det_item_fee_sumamt: Decimal = amount("detItemFeeSumamt", 16, 2, "明细项目费用总额",
                                          required=True)
    cnt: Decimal = amount("cnt", 16, 4, "数量", required=True)
    pric: Decimal = amount("pric", 16, 6, "单价", required=True)
    sin_dos_dscr: Optional[str] = text("sinDosDscr", 200, "单次剂量描述")
    used_frqu_dscr: Optional[str] = text("usedFrquDscr", 200, "使用频次描述")
    prd_days: Optional[Decimal] = amount("prdDays", 4, 2, "周期天数")
    medc_way_dscr: Optional[str] = text("medcWayDscr", 200, "用药途径描述")
    bilg_dept_codg: str = text("bilgDeptCodg", 30, "开单科室编码", required=True)
    bilg_dept_name: str = text("bilgDeptName", 100, "开单科室名称", required=True)
    bilg_dr_codg: str = text("bilgDrCodg", 30, "开单医生编码", required=True)
    bilg_dr_name: str = text("bilgDrName", 50, "开单医师姓名", required=True)
    acord_dept_codg: Optional[str] = text("acordDeptCodg", 30, "受单科室编码")
    acord_dept_name: Optional[str] = text("acordDeptName", 100, "受单科室名称")
    orders_dr_code: Optional[str] = text("ordersDrCode", 30, "受单医生编码")
    orders_dr_name: Optional[str] = text("ordersDrName", 50, "受单医生姓名")
    hosp_appr_flag: str = text("hospApprFlag", 3, "医院审批标志", required=True)
    tcmdrug_used_way: Optional[str] = text("tcmdrugUsedWay", 6, "中药使用方式")
    etip_flag: Optional[str] = text("etipFlag", 3, "外检标志")
    etip_hosp_code: Optional[str] = text("etipHospCode", 30, "外检医院编码")
    dscg_tkdrug_flag: Optional[str] = text("dscgTkdrugFlag", 3, "出院带药标志")
    matn_fee_flag: Optional[str] = text("matnFeeFlag", 6, "生育费用标志")
    init_feedetl_sn: Optional[str] = text("initFeedetlSn", 30, "原费用流水号 (refund lines)")
    drord_no: Optional[str] = text("drordNo", 30, "医嘱号")
    med_type: str = text("medType", 6, "医疗类别", required=True)
    memo: Optional[str] = text("memo", 500, "备注")
    exp_content: Optional[ExpContent] = nested("expContent", "扩展字段 (FSI; open object)",
                                               max_length=5000)
    med_list_name: str = text("medListName", 50, "医疗目录名称", required=True)
    med_list_spc: str = text("medListSpc", 50, "医疗目录规格", required=True)
    comb_no: Optional[str] = text("combNo", 3, "组套编号")


class FeeUploadRequest(WireModel):
    """6201 input, table 3 (``data``), with ``diseinfoList`` (table 5), ``feedetailList``
    (table 6) and ``expContent`` (table 4).

    Besides each field's type, length and required flag, it checks the notes:
    ``initRxOrd`` is required when ``rxCircFlag`` is ``"1"``; the lines'
    ``detItemFeeSumamt`` add up to ``medfeeSumamt``; every line carries the upload's
    ``chrgBchno``; lines of one charge batch share the disease code (``diseCodg``);
    ``feedetlSn`` is unique within the upload.

    >>> from decimal import Decimal
    >>> from medpay_core.models import DiseInfo, FeeDetail
    >>> dise = DiseInfo(diag_type="1", diag_srt_no=1, diag_code="J06.900", diag_name="急性上呼吸道感染",
    ...     diag_dept="内科", dise_dor_no="D001", dise_dor_name="李医生",
    ...     diag_time="2026-11-25 09:30:00", vali_flag="1")
    >>> line = dict(feedetlSn="F001", psnNo="P1", chrgBchno="B1", rxCircFlag="0",
    ...     feeOcurTime="2026-11-25 09:40:00", medListCodg="XJ01", medinsListCodg="YP0001",
    ...     detItemFeeSumamt=Decimal("25.80"), cnt=Decimal("2"), pric=Decimal("12.9"),
    ...     bilgDeptCodg="0101", bilgDeptName="内科", bilgDrCodg="D001", bilgDrName="李医生",
    ...     hospApprFlag="1", medType="11", medListName="阿莫西林胶囊", medListSpc="0.25g*24粒")
    >>> req = FeeUploadRequest(org_codg="H35010200001", psn_no="P1", insutype="310",
    ...     med_org_ord="MO20261125001", begntime="2026-11-25 09:00:00", id_no="350181199011193519",
    ...     user_name="张三", id_type="01", ec_token="ec-token", ipt_otp_no="MZ001",
    ...     dept_name="内科", caty="A03", med_type="11", fee_type="01",
    ...     medfee_sumamt=Decimal("25.80"), acct_used_flag="1", dise_codg="J06.900",
    ...     psn_setlway="01", chrg_bchno="B1", pub_hosp_rfom_flag="1",
    ...     diseinfo_list=[dise], feedetail_list=[line])
    >>> req.feedetail_list[0].det_item_fee_sumamt
    Decimal('25.80')
    """

    org_codg: str = text("orgCodg", 40, "机构编码", required=True)
    org_id: Optional[str] = text("orgId", 40, "电子凭证机构号")
    psn_no: str = text("psnNo", 30, "人员编号", required=True)
    insutype: str = text("insutype", 6, "险种类型 (dictionary insutype)", required=True)
    med_org_ord: str = text("medOrgOrd", 40, "医疗机构订单号", required=True)
    init_rx_ord: Optional[str] = text("initRxOrd", 40, "要续方的原处方流水 (required when rxCircFlag is 1)")
    rx_circ_flag: Optional[str] = text("rxCircFlag", 1, "电子处方流转标志: 1 e-prescription, 0 not (default)",
                                       enum=("0", "1"))
    begntime: str = text("begntime", 19, "开始时间 (registration) yyyy-MM-dd HH:mm:ss", required=True,
                         fmt="datetime")
    id_no: str = text("idNo", 40, "证件号码", required=True)
    user_name: str = text("userName", 40, "用户姓名", required=True)
    id_type: str = text("idType", 3, "证件类别 (dictionary psn_cert_type)", required=True)
    ec_token: str = text("ecToken", 64, "电子凭证授权ecToken (from 6101)", required=True)
    insu_code: Optional[str] = text("insuCode", 6, "就诊参保地行政区划")
    ipt_otp_no: str = text("iptOtpNo", 30, "住院/门诊号", required=True)
    atddr_no: Optional[str] = text("atddrNo", 30, "医师编码")
    dr_name: Optional[str] = text("drName", 50, "医师姓名")
    dept_code: Optional[str] = text("deptCode", 30, "科室编码")
    dept_name: str = text("deptName", 100, "科室名称", required=True)
    caty: str = text("caty", 6, "科别", required=True)
    mdtrt_id: Optional[str] = text("mdtrtId", 30, "就诊ID")
    med_type: str = text("medType", 6, "医疗类别 (dictionary med_type)", required=True)
    fee_type: str = text("feeType", 3, "费用类型 (dictionary feeType)", required=True)
    medfee_sumamt: Decimal = amount("medfeeSumamt", 16, 2, "医疗费总额", required=True)
    acct_used_flag: str = text("acctUsedFlag", 1, "个人账户使用标志", required=True)
    main_cond_dscr: Optional[str] = text("mainCondDscr", 1000, "主要病情描述")
    dise_codg: str = text("diseCodg", 30, "病种编码", required=True)
    dise_name: Optional[str] = text("diseName", 500, "病种名称")
    psn_setlway: str = text("psnSetlway", 6, "个人结算方式", required=True)
    chrg_bchno: str = text("chrgBchno", 30, "收费批次号", required=True)
    pub_hosp_rfom_flag: str = text("pubHospRfomFlag", 6, "公立医院改革标志", required=True)
    invono: Optional[str] = text("invono", 20, "发票号")
    endtime: Optional[str] = text("endtime", 19, "出院时间 yyyy-MM-dd HH:mm:ss", fmt="datetime")
    fulamt_ownpay_amt: Optional[Decimal] = amount("fulamtOwnpayAmt", 16, 2, "全自费金额")
    overlmt_selfpay: Optional[Decimal] = amount("overlmtSelfpay", 16, 2, "超限价金额")
    preselfpay_amt: Optional[Decimal] = amount("preselfpayAmt", 16, 2, "先行自付金额")
    inscp_scp_amt: Optional[Decimal] = amount("inscpScpAmt", 16, 2, "符合政策范围金额")
    oprn_oprt_code: Optional[str] = text("oprnOprtCode", 30, "手术操作代码")
    oprn_oprt_name: Optional[str] = text("oprnOprtName", 500, "手术操作名称")
    fpsc_no: Optional[str] = text("fpscNo", 50, "计划生育服务证号")
    latechb_flag: Optional[str] = text("latechbFlag", 3, "晚育标志")
    geso_val: Optional[int] = integer("gesoVal", 2, "孕周数")
    fetts: Optional[int] = integer("fetts", 3, "胎次 (inpatient settlement)")
    fetus_cnt: Optional[int] = integer("fetusCnt", 3, "胎儿数")
    pret_flag: Optional[str] = text("pretFlag", 3, "早产标志")
    birctrl_type: Optional[str] = text("birctrlType", 6, "计划生育手术类别")
    birctrl_matn_date: Optional[str] = text("birctrlMatnDate", 10, "计划生育手术或生育日期 yyyy-MM-dd",
                                            fmt="date")
    cop_flag: Optional[str] = text("copFlag", 3, "伴有并发症标志")
    dscg_dept_codg: Optional[str] = text("dscgDeptCodg", 30, "出院科室编码")
    dscg_dept_name: Optional[str] = text("dscgDeptName", 100, "出院科室名称")
    dscg_ded: Optional[str] = text("dscgDed", 50, "出院床位")
    dscg_way: Optional[str] = text("dscgWay", 8, "离院方式")
    die_date: Optional[str] = text("dieDate", 10, "死亡日期 yyyy-MM-dd", fmt="date")
    matn_type: Optional[str] = text("matnType", 6, "生育类别 (inpatient settlement)")
    exp_content: Optional[FeeUploadExpContent] = nested("expContent", "扩展参数 (table 4)",
                                                        max_length=4000)
    mid_setl_flag: Optional[str] = text("midSetlFlag", 3, "中途结算标志 (dictionary mid_setl_flag)")
    diseinfo_list: List[DiseInfo] = items("diseinfoList", "诊断或症状明细 (table 5)", required=True)
    feedetail_list: List[FeeDetail] = items("feedetailList", "费用明细 (table 6)", required=True)
    adm_diag_dscr: Optional[str] = text("admDiagDscr", 200, "入院诊断描述")
    adm_dept_codg: Optional[str] = text("admDeptCodg", 30, "入院科室编码")
    adm_dept_name: Optional[str] = text("admDeptName", 100, "入院科室名称")
    adm_bed: Optional[str] = text("admBed", 30, "入院床位")
    pay_auth_no: Optional[str] = text("payAuthNo", 40, "支付授权码")
    uld_latlnt: Optional[str] = text("uldLatlnt", 21, "经纬度 'longitude,latitude' ('0,0' if unknown)",
                                     fmt="latlng")
    mdtrt_cert_type: Optional[str] = text("mdtrtCertType", 2, "就诊凭证类型",
                                          enum=("00", "01", "02", "03"))
    insuplc_admdvs: Optional[str] = text("insuplcAdmdvs", 6, "用户参保地行政区划")

    @classmethod
    def _medpay_rules(cls, v: Dict[str, Any], prefix: str) -> List[FieldError]:
        errors = []
        if v["rx_circ_flag"] == "1" and v["init_rx_ord"] is None:
            errors.append(err(prefix + "initRxOrd", "required_if",
                              "is required when rxCircFlag is 1 (e-prescription)"))
        lines = v["feedetail_list"] if isinstance(v["feedetail_list"], list) else []
        amounts = [get(line, "det_item_fee_sumamt") for line in lines]
        if lines and v["medfee_sumamt"] is not None and None not in amounts:
            total = sum(amounts, Decimal(0))
            if total != v["medfee_sumamt"]:
                errors.append(err(prefix + "medfeeSumamt", "sum_mismatch",
                                  f"the fee lines' detItemFeeSumamt add up to {total}, "
                                  f"not medfeeSumamt {v['medfee_sumamt']}"))
        seen: Dict[str, int] = {}
        batch_dise: Dict[str, str] = {}
        if v["chrg_bchno"] is not None and v["dise_codg"] is not None:
            batch_dise[v["chrg_bchno"]] = v["dise_codg"]
        for i, line in enumerate(lines):
            where = f"{prefix}feedetailList[{i}]."
            sn, batch, dise = (get(line, "feedetl_sn"), get(line, "chrg_bchno"),
                               get(line, "dise_codg"))
            if sn is not None:
                if sn in seen:
                    errors.append(err(where + "feedetlSn", "duplicate",
                                      f"repeats feedetailList[{seen[sn]}]; it must be unique "
                                      "within the visit"))
                else:
                    seen[sn] = i
            if batch is not None and v["chrg_bchno"] is not None and batch != v["chrg_bchno"]:
                errors.append(err(where + "chrgBchno", "mismatch",
                                  "must be the upload's chrgBchno (one charge batch per upload)"))
            if batch is not None and dise is not None:
                if batch_dise.setdefault(batch, dise) != dise:
                    errors.append(err(where + "diseCodg", "mismatch",
                                      "lines of one charge batch (chrgBchno) must have the "
                                      "same disease code (diseCodg)"))
        return errors


class CashierEncData(WireModel):
    """The cashier page's ``chnlEncData`` fields: 6201, the table "收银台拼接说明" after
    table 7. Their SM4-encrypted JSON ``{"payAuthNo":…,"deposit":…}`` is appended to
    ``cashierUrl`` (see :func:`medpay_core.cashier.cashier_url`).

    >>> from decimal import Decimal
    >>> CashierEncData(pay_auth_no="AUTH1", deposit=Decimal("123.45")).to_wire()
    {'payAuthNo': 'AUTH1', 'deposit': Decimal('123.45')}
    """

    pay_auth_no: str = text("payAuthNo", 40, "支付授权码", required=True)
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金 (inpatients; never negative)",
                                        nonnegative=True)


class FeeUploadResponse(InboundModel):
    """6201 output, table 7 (``data``): ``payOrdId``, ``payToken``, ``cashierUrl``,
    ``extData``. The cashier link (``cashierUrl`` plus ``chnlAppId`` and the encrypted
    :class:`CashierEncData` fields) is built by :func:`medpay_core.cashier.cashier_url`.

    >>> r = FeeUploadResponse.from_wire({"payOrdId": "ORD3501002026112500001",
    ...     "payToken": "ORD3501002026112500001TK", "cashierUrl": "https://mp.example/cashier?id=1",
    ...     "extData": '{"setlId": "S1"}'})
    >>> r.ext_data.model_extra
    {'setlId': 'S1'}
    """


    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    pay_token: str = text("payToken", 40, "支付token", required=True)
    cashier_url: Optional[str] = text("cashierUrl", 4000, "医保支付收银台h5地址")
    ext_data: Optional[ExtData] = nested("extData", "医保扩展数据")
