"""单文件 Django 机构端：接收 6302 结算通知（POST /medpay/notify）与 6204 回跳（GET /medpay/return）。

运行：``MEDPAY_CONFIG=center.db.config.json python receive_django.py runserver 8001``，
或交给任一 WSGI 服务器：``gunicorn receive_django:application``。
"""

# Django 不带类型标注（可另装 django-stubs）：mypy --strict 下不报缺少类型。
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import logging
import os
import secrets
import sys
import threading

from django.conf import settings

settings.configure(
    DEBUG=False,
    ROOT_URLCONF=__name__,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(32),
    ALLOWED_HOSTS=os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(","),
    MIDDLEWARE=["django.middleware.security.SecurityMiddleware", "django.middleware.csrf.CsrfViewMiddleware"],
    SECURE_REFERRER_POLICY="no-referrer",  # 回跳地址带着 encData：不作为 Referer 外传
    DATA_UPLOAD_MAX_MEMORY_SIZE=1024 * 1024,  # 一条通知只有几 KB
)

import django  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

import medpay_core as mp  # noqa: E402
from medpay_core.callbacks import decode_order_sync, handle_settlement_notice  # noqa: E402
from medpay_core.models import SettlementNotice  # noqa: E402
from medpay_core.pages import Branding, OrderState, render_message_page, render_return_page  # noqa: E402

log = logging.getLogger("his.medpay")

# 机构凭证：此处读沙箱生成的配置；生产中用自己的 appId、appSecret、私钥与中心公钥。
CODEC = mp.EnvelopeCodec(mp.Credentials.from_sandbox_config(os.environ["MEDPAY_CONFIG"],
                                                            os.environ.get("MEDPAY_ORG_CODG")))
# 已处理的通知记在 SQLite 文件里：重启后仍在，重复送达的通知只入账一次。
STORE = mp.SQLiteNoticeStore(os.environ.get("MEDPAY_NOTICE_STORE", "notices.sqlite3"))

PAID: dict[str, SettlementNotice] = {}  # 代替院内数据库：payOrdId -> 结算通知
_lock = threading.Lock()
# 回跳页的外观：医院名称、标志、主色与“返回”去处（页面本身由 medpay_core.pages 渲染）。
BRAND = Branding(name="某某医院", back_url="/", help_text="如有疑问，请到门诊一楼收费窗口咨询。")


def record_settlement(notice: SettlementNotice) -> None:
    """把订单标记为已支付。每条通知只调用一次；抛出异常则中心稍后重发。"""
    with _lock:
        PAID[notice.pay_ord_id] = notice
    log.info("6302 %s 已入账：总额 %s 元", notice.pay_ord_id, notice.fee_sumamt)


def notify(request: HttpRequest) -> HttpResponse:
    # 无论成功与否都以 HTTP 200 返回应答报文；success=false 时中心会重发。
    reply = handle_settlement_notice(request.body, CODEC, record_settlement, store=STORE)
    return HttpResponse(reply, content_type="application/json;charset=UTF-8", headers={"Cache-Control": "no-store"})


def order_return(request: HttpRequest) -> HttpResponse:
    try:
        # encData 只加密不签名：用来展示订单、发起自费支付，不能据此入账（入账以 6302 为准）。
        o = decode_order_sync(request.GET.dict(), CODEC)
    except mp.MedpayError as e:
        log.warning("6204 回跳无法识别：%s: %s", type(e).__name__, e)  # 细节只写日志
        return HttpResponseBadRequest(render_message_page("link_invalid"), headers={"Cache-Control": "no-store"})
    # 订单状态以院内记录为准：已收到 6302 为 paid，否则 unknown（页面提示以结算通知为准）。
    state: OrderState = "paid" if o.pay_ord_id in PAID else "unknown"
    page = render_return_page(o, request.GET.get("chnlType"), state=state, branding=BRAND,
                              refresh_url=request.get_full_path())
    return HttpResponse(page, headers={"Cache-Control": "no-store"})


urlpatterns = [
    # 中心的 POST 不带 CSRF 令牌（报文本身有签名）：通知视图免 CSRF 校验。
    path("medpay/notify", csrf_exempt(require_POST(notify))),
    path("medpay/return", require_GET(order_return)),
]

django.setup()
application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
