"""Flask 机构端：接收 6302 结算通知（POST /medpay/notify）与 6204 回跳（GET /medpay/return）。

运行：``MEDPAY_CONFIG=center.db.config.json flask --app receive_flask run --port 8001``
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, Response, request

import medpay_core as mp
from medpay_core.callbacks import decode_order_sync, handle_settlement_notice
from medpay_core.models import SettlementNotice
from medpay_core.pages import Branding, OrderState, render_message_page, render_return_page

log = logging.getLogger("his.medpay")

# 机构凭证：此处读沙箱生成的配置；生产中用自己的 appId、appSecret、私钥与中心公钥。
CODEC = mp.EnvelopeCodec(mp.Credentials.from_sandbox_config(os.environ["MEDPAY_CONFIG"],
                                                            os.environ.get("MEDPAY_ORG_CODG")))
# 已处理的通知记在 SQLite 文件里：重启后仍在，重复送达的通知只入账一次。
STORE = mp.SQLiteNoticeStore(os.environ.get("MEDPAY_NOTICE_STORE", "notices.sqlite3"))

PAID: dict[str, SettlementNotice] = {}  # 代替院内数据库：payOrdId -> 结算通知
_lock = threading.Lock()


def record_settlement(notice: SettlementNotice) -> None:
    """把订单标记为已支付。每条通知只调用一次；抛出异常则中心稍后重发。"""
    with _lock:
        PAID[notice.pay_ord_id] = notice
    log.info("6302 %s 已入账：总额 %s 元", notice.pay_ord_id, notice.fee_sumamt)


app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # 一条通知只有几 KB

# 回跳地址带着 encData：不缓存，也不作为 Referer 发给别的网站。
NO_LEAK = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# 回跳页的外观：医院名称、标志、主色与“返回”去处（页面本身由 medpay_core.pages 渲染）。
BRAND = Branding(name="某某医院", back_url="/", help_text="如有疑问，请到门诊一楼收费窗口咨询。")


@app.post("/medpay/notify")
def notify() -> Response:
    # 无论成功与否都以 HTTP 200 返回应答报文；success=false 时中心会重发。
    reply = handle_settlement_notice(request.get_data(), CODEC, record_settlement, store=STORE)
    return Response(reply, content_type="application/json;charset=UTF-8", headers={"Cache-Control": "no-store"})


@app.get("/medpay/return")
def order_return() -> Response:
    try:
        # encData 只加密不签名：用来展示订单、发起自费支付，不能据此入账（入账以 6302 为准）。
        order = decode_order_sync(request.args.to_dict(), CODEC)
    except mp.MedpayError as e:
        log.warning("6204 回跳无法识别：%s: %s", type(e).__name__, e)  # 细节只写日志
        return Response(render_message_page("link_invalid"), status=400, headers=NO_LEAK)
    # 订单状态以院内记录为准：已收到 6302 为 paid，否则 unknown（页面提示以结算通知为准）。
    state: OrderState = "paid" if order.pay_ord_id in PAID else "unknown"
    page = render_return_page(order, request.args.get("chnlType"), state=state, branding=BRAND,
                              refresh_url=request.full_path)
    return Response(page, headers=NO_LEAK)
