"""Everything a patient may be told, in plain Chinese: what happened and what to do
next (返回医院重新发起 / 联系收费窗口). Pages show these, never a library error text;
the details go to the log.

>>> m = MESSAGES["link_invalid"]
>>> m.title, m.next_step
('无法打开支付页面', '请返回医院重新发起支付。')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PatientMessage", "MESSAGES"]


@dataclass(frozen=True)
class PatientMessage:
    """A title, what happened, and what to do next."""

    title: str
    message: str
    next_step: str = ""


MESSAGES: dict[str, PatientMessage] = {
    # The cashier and the pages around it.
    "link_invalid": PatientMessage("无法打开支付页面", "支付链接无效或已损坏。", "请返回医院重新发起支付。"),
    "order_not_found": PatientMessage("未找到订单", "没有找到这笔订单。", "请返回医院重新发起支付，或到收费窗口咨询。"),
    "order_mismatch": PatientMessage("订单信息不一致", "订单信息与医院登记的不一致，本次不能支付。",
                                     "请返回医院重新发起支付，或到收费窗口咨询。"),
    "auth_refused": PatientMessage("医保授权无效", "医保支付授权已失效，或不属于本人。", "请返回医院重新扫码授权后再支付。"),
    "expired": PatientMessage("订单已过期", "这笔订单已超过支付时限，不能再支付。", "请返回医院重新下单。"),
    "paid": PatientMessage("订单已支付", "这笔订单已完成支付，无需重复支付。", "如有疑问，请到收费窗口咨询。"),
    "revoked": PatientMessage("订单已撤销", "这笔订单已撤销，不能再支付。", "请返回医院重新下单。"),
    "pay_failed": PatientMessage("暂时无法完成支付", "支付没有完成，未扣款。", "请稍后重试；多次失败请联系收费窗口。"),
    "paid_now": PatientMessage("支付成功", "医保结算已完成。", "请返回医院，凭结算结果继续就诊或取药。"),
    "cancelled": PatientMessage("已放弃支付", "本次医保结算未生效，没有扣款。", "如需支付，请返回医院重新发起。"),
    "page_not_found": PatientMessage("页面不存在", "您打开的地址不存在。", "请返回医院重新发起支付。"),
    "too_large": PatientMessage("提交的内容过大", "页面提交的内容超出限制。", "请返回上一页重试；仍不行请联系收费窗口。"),
    "server_error": PatientMessage("系统繁忙", "暂时无法处理您的请求。", "请稍后重试；多次失败请联系收费窗口。"),
    # The 6204 return page (the institution's own page), one per order state.
    "return_paid": PatientMessage("支付成功", "医保结算已完成。", "请按医院指引继续就诊或取药。"),
    "return_paying": PatientMessage("正在支付", "医保部分已确认，正在等待支付结果。", "请勿重复支付，稍后刷新查看结果。"),
    "return_failed": PatientMessage("支付未完成", "本次支付没有成功。", "请返回医院重新发起支付，或到收费窗口咨询。"),
    "return_unknown": PatientMessage("支付结果确认中", "支付结果以医保结算通知为准。", "请勿重复支付，稍后刷新查看结果。"),
    # The sandbox's e-voucher page (for testers, still in Chinese).
    "voucher_refused": PatientMessage("无法签发医保电子凭证", "填写的信息不完整或格式不正确。", "请检查姓名和证件号码后重试。"),
}
