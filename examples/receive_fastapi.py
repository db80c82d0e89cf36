"""FastAPI 机构端：挂载 medpay_core 的回调应用，接收 6302 结算通知与 6204 回跳。

运行：``MEDPAY_CONFIG=center.db.config.json uvicorn receive_fastapi:app --port 8001``
（通知地址 ``/medpay/notify``，回跳地址 ``/medpay/return``）。
"""

from __future__ import annotations

import logging
import os
import threading

from fastapi import FastAPI

import medpay_core as mp
from medpay_core.asgi import create_app
from medpay_core.models import SettlementNotice
from medpay_core.pages import Branding

log = logging.getLogger("his.medpay")

# 机构凭证：此处读沙箱生成的配置；生产中用自己的 appId、appSecret、私钥与中心公钥。
CREDENTIALS = mp.Credentials.from_sandbox_config(os.environ["MEDPAY_CONFIG"], os.environ.get("MEDPAY_ORG_CODG"))
# 已处理的通知记在 SQLite 文件里：重启后仍在，重复送达的通知只入账一次。
STORE = mp.SQLiteNoticeStore(os.environ.get("MEDPAY_NOTICE_STORE", "notices.sqlite3"))

PAID: dict[str, SettlementNotice] = {}  # 代替院内数据库：payOrdId -> 结算通知
_lock = threading.Lock()


def record_settlement(notice: SettlementNotice) -> None:
    """把订单标记为已支付。每条通知只调用一次；抛出异常则中心稍后重发。"""
    with _lock:
        PAID[notice.pay_ord_id] = notice
    log.info("6302 %s 已入账：总额 %s 元", notice.pay_ord_id, notice.fee_sumamt)


app = FastAPI(title="某某医院 HIS")
# 两个回调挂在 /medpay 下：POST /medpay/notify（6302），GET /medpay/return（6204）。
# 回跳页（6204）显示院内记录的订单状态：已收到 6302 为 paid，否则 unknown（以结算通知为准）。
app.mount("/medpay", create_app(
    CREDENTIALS, record_settlement, store=STORE, notice_path="/notify", return_path="/return",
    order_state=lambda order: "paid" if order.pay_ord_id in PAID else "unknown",
    branding=Branding(name="某某医院", back_url="/", help_text="如有疑问，请到门诊一楼收费窗口咨询。")))


@app.get("/orders/{pay_ord_id}")
def order_status(pay_ord_id: str) -> dict[str, str]:
    """院内自己的接口，与回调并存。"""
    return {"payOrdId": pay_ord_id, "status": "已支付" if pay_ord_id in PAID else "未支付"}
