"""Flask 机构端：接收 6302 结算通知（POST /medpay/notify）与 6204 回跳（GET /medpay/return）。

运行：``MEDPAY_CONFIG=center.db.config.json flask --app receive_flask run --port 8001``
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, Response, render_template_string, request

import medpay_core as mp
from medpay_core.callbacks import decode_order_sync, handle_settlement_notice
from medpay_core.models import SettlementNotice

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

ORDER_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>医保订单信息</title>
<h1>医保订单信息</h1>
<table>
<tr><td>医院订单号</td><td>{{ o.med_org_ord }}</td></tr>
<tr><td>费用总额</td><td>{{ o.fee_sumamt }} 元</td></tr>
<tr><td>医保基金支付</td><td>{{ o.fund_pay }} 元</td></tr>
<tr><td>个人账户支付</td><td>{{ o.psn_acct_pay }} 元</td></tr>
<tr><td>现金自付</td><td>{{ o.own_pay_amt }} 元</td></tr>
</table>
<p>最终结算结果以医保结算通知为准。</p></html>"""


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
        return Response("订单链接无效或已过期，请返回重新支付。", status=400,
                        content_type="text/plain; charset=utf-8", headers=NO_LEAK)
    return Response(render_template_string(ORDER_PAGE, o=order), headers=NO_LEAK)
