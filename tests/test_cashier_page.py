"""The sandbox cashier page (python/medpay_core/sandbox/cashier_page.py) in a real
headless Chromium: Debian's ``chromium`` and ``chromium-driver`` (``make browser``),
driven by Selenium, with no driver or browser download.

The layout rules of spec chapter 3 (tables A.2 and A.4) are checked on computed styles
at a 375 px wide, 2x mobile viewport, where 1 design px (750 px board) = 0.5 CSS px.
The expected values below are written out from the spec, not read from the module.
"""

from __future__ import annotations

import json
import re
import threading
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import markupsafe
import pytest

from browser_support import DPR, PageServer, rgb, start_driver
from browser_support import click_text as _click_text
from browser_support import finish_animations as _finish_animations
from browser_support import rect as _rect
from browser_support import style as _style
from browser_support import visible as _visible
from browser_support import wait_for as _wait

from medpay_core import EnvelopeCodec
from medpay_core.cashier import cashier_url
from medpay_core.sandbox import SandboxServer, generate_config
from medpay_core.sandbox import cashier_page as cp
from medpay_core.sandbox.cashier_page import (
    CashierView,
    Deduction,
    DiagnosisItem,
    FeeLine,
    PayChannel,
    PayForm,
    VisitInfo,
    render_cashier_page,
    render_dialog,
    render_loading_page,
    render_result_page,
    sample_view,
    view_from_6201,
)

WIDTH, HEIGHT = 375, 812
SCALE = WIDTH / 750  # CSS px per design px at 375 px


def px(design: float) -> str:
    """A design size (750 px board) as the computed CSS value at a 375 px viewport."""
    return f"{design * SCALE:g}px"


PRIMARY, MAIN, TITLE, AUX, WHITE, BORDER = "#3B71E8", "#303133", "#606266", "#909399", "#FFFFFF", "#E6E6E6"
MEDIUM, REGULAR = "500", "400"  # 中黑体, 常规体

# Table A.2 text rows: (row, selector, design px, weight, colour).
A2_TEXT = [
    ("机构名称", ".mp-org-name", 36, MEDIUM, WHITE),
    ("费用总额", ".mp-total", 36, MEDIUM, TITLE),
    ("医保基金支付", ".mp-split[data-k=fund]", 28, REGULAR, AUX),
    ("现金支付", ".mp-split-cash", 32, MEDIUM, PRIMARY),
    ("查看明细", ".mp-detail-link", 28, REGULAR, TITLE),
    ("支付方式", ".mp-channel-name", 30, REGULAR, MAIN),
    ("内容", ".mp-content", 28, REGULAR, TITLE),
    ("支付金额", ".mp-pay-amount", 44, MEDIUM, PRIMARY),
    ("按钮文字", ".mp-pay-btn", 36, MEDIUM, WHITE),
]
# Table A.4 text rows (the prescription-detail popup).
A4_TEXT = [
    ("处方明细", ".mp-sheet-title", 40, MEDIUM, MAIN),
    ("费用总额", ".mp-sheet-total", 36, MEDIUM, TITLE),
    ("就诊信息等标题", ".mp-info-title", 32, MEDIUM, MAIN),
    ("门诊类别等内容", ".mp-info-text", 28, REGULAR, TITLE),
    ("费用总额金额数字", ".mp-info-amount", 28, MEDIUM, PRIMARY),
    ("药品规格", ".mp-info-spec", 28, REGULAR, AUX),
]


# ----------------------------------------------------------------------------- HTML only


def test_page_is_self_contained_and_complete():
    html = render_cashier_page(sample_view(3))
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert '<meta name="viewport" content="width=device-width' in html
    # Nothing loaded from anywhere: no external src/href/url(), no @import, no <link> but the data: icon.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="data:,">']
    for text in ("福州市第一人民医院", "费用总额", "医保基金支付", "个人账户支付", "其他抵扣金额", "现金支付",
                 "查看明细", "选择支付方式", "去支付", "处方明细", "就诊信息", "诊断信息", "特殊信息", "费用明细"):
        assert text in html, text


def test_every_dynamic_value_is_escaped():
    evil = '<img src=x onerror="alert(1)">&"\''
    view = CashierView(
        institution_name=evil, pay_ord_id=evil, org_order_no=evil, patient_name=evil,
        total=D("1.00"), fund=D("0"), acct=D("0"), other=D("0"), cash=D("1.00"),
        visit=VisitInfo(evil, evil, evil, evil, evil),
        diagnoses=[DiagnosisItem(evil, evil, evil)],
        special_info=[(evil, evil)],
        fee_lines=[FeeLine(evil, evil, D("1"), D("1"), D("1.00"))],
        other_deductions=[Deduction(evil, D("0.00"))],
        channels=[PayChannel(evil, evil, evil), PayChannel("WX", evil, evil)],
        pay_form=PayForm(action=evil, fields={evil: evil}, channel_field=evil),
        error=None, cancel_url=evil, title=evil,
    )
    escaped = str(markupsafe.escape(evil))  # the template engine's escaping, quotes included
    assert escaped == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;&#34;&#39;"
    for error in (None, evil):  # payable (with the form), and not (the error dialog)
        view.error = error
        html = render_cashier_page(view)
        assert "<img" not in html
        assert 'onerror="' not in html
        assert html.count(escaped) >= 20, error


def test_links_are_never_script_urls():
    view = sample_view(1, action="javascript:alert(1)", cancel_url=" JavaScript:alert(2)")
    html = render_cashier_page(view)
    assert "javascript:" not in html.lower()
    assert 'action="#"' in html and 'data-action="href:#"' in html
    assert cp.safe_url("/sandbox/cashier/pay?x=1") == "/sandbox/cashier/pay?x=1"
    assert cp.safe_url("https://h.example/r") == "https://h.example/r" and cp.safe_url("data:text/html,x") == "#"


def test_amounts_are_decimal_text():
    view = sample_view(1)
    view.cash = D("0.1") + D("0.2")
    view.fee_lines = [FeeLine("药", "8g/片/3", D("1.5000"), D("3.333333"), D("5.00"))]
    html = render_cashier_page(view)
    assert "¥0.30" in html and "¥3.333333 × 1.5" in html and "¥125.60" in html
    assert cp.yuan(D("12")) == "¥12.00" and cp.yuan_price(D("18.500000")) == "¥18.50"


def test_view_from_6201():
    data = json.loads(
        """{"medOrgOrd":"MO1","userName":"张三","deptName":"内科","drName":"李医生",
        "begntime":"2026-11-25 09:30:00","medType":"11","medfeeSumamt":100.00,"diseName":"高血压",
        "diseinfoList":[{"diagName":"高血压","diagCode":"I10.x00","diagType":"1"}],
        "feedetailList":[{"medListName":"硝苯地平","medListSpc":"10mg*24","cnt":2.0000,"pric":50.000000,
        "detItemFeeSumamt":100.00}]}""",
        parse_float=D,
    )
    view = view_from_6201(data, pay_ord_id="ORD1", institution_name="医院", fund="60.00", acct="10.00",
                          channels=[PayChannel("WX", "微信支付")])
    assert view.cash == D("30.00") and view.total == D("100.00")
    assert view.visit.med_type == "普通门诊" and view.org_order_no == "MO1"
    assert view.diagnoses[0].code == "I10.x00" and ("病种", "高血压") in view.special_info
    assert view.fee_lines[0].qty == D("2.0000") and view.fee_lines[0].amount == D("100.00")


def test_dialog_helper_has_one_or_two_buttons():
    one = render_dialog("d1", "提示", "信息")
    two = render_dialog("d2", "确认", "信息", (("取消", "close"), ("确定", "href:/x")))
    assert one.count("<button") == 1 and 'data-kind="one"' in one
    assert two.count("<button") == 2 and 'data-kind="two"' in two
    with pytest.raises(ValueError):
        render_dialog("d3", "t", "m", ())


# ----------------------------------------------------------------------------- browser


class _Pages(PageServer):
    """The cashier pages' server: ``add`` takes a view or HTML; POST answers 支付成功."""

    def __init__(self) -> None:
        super().__init__(lambda path, form: render_result_page("支付成功", form.get("chnlType", [""])[0]))

    def add(self, path: str, view_or_html) -> str:
        return super().add(path, view_or_html if isinstance(view_or_html, str) else render_cashier_page(view_or_html))


@pytest.fixture(scope="module")
def pages():
    p = _Pages()
    p.add("/multi", sample_view(3, action="/pay"))
    p.add("/single", sample_view(1, action="/pay"))
    p.add("/error", sample_view(3, error="订单已过期，请返回医院重新下单。<b>x</b>", action="/pay"))
    p.add("/cancelled", render_result_page("已放弃支付", success=False))
    p.add("/loading", render_loading_page("正在确认医保结算结果，请稍候"))
    yield p
    p.close()


@pytest.fixture(scope="module")
def driver():
    d = start_driver(WIDTH, HEIGHT)
    yield d
    d.quit()


def _open(driver, url: str):
    driver.get(url)
    return driver


def _open_detail(driver):
    """Tap "查看明细" and let the sheet's slide-in finish."""
    _click_text(driver, "查看明细")
    _finish_animations(driver)


def test_mobile_viewport(driver, pages):
    _open(driver, pages.base + "/multi")
    assert driver.execute_script("return [innerWidth, devicePixelRatio]") == [WIDTH, DPR]
    # No horizontal overflow on a 375 px phone.
    assert driver.execute_script("return document.documentElement.scrollWidth") == WIDTH


@pytest.mark.parametrize("row,selector,size,weight,colour", A2_TEXT, ids=[r[0] for r in A2_TEXT])
def test_table_a2_text_styles(driver, pages, row, selector, size, weight, colour):
    if driver.current_url != pages.base + "/multi":
        _open(driver, pages.base + "/multi")
    s = _style(driver, selector, "font-size", "font-weight", "color")
    assert s == {"font-size": px(size), "font-weight": weight, "color": rgb(colour)}, row


def test_table_a2_cards_icons_and_button(driver, pages):
    _open(driver, pages.base + "/multi")
    for card in (".mp-amount-card", ".mp-channel-card"):
        s = _style(driver, card, "border-top-left-radius", "border-bottom-right-radius", "box-shadow",
                   "background-color")
        assert s["border-top-left-radius"] == s["border-bottom-right-radius"] == px(16) == "8px"
        # 卡片描边 1px/#E6E6E6 -> 0.5 CSS px: one device pixel at 2x (drawn as an inset stroke).
        assert s["box-shadow"] == f"{rgb(BORDER)} 0px 0px 0px {px(1)} inset"
        assert s["background-color"] == rgb(WHITE)
    icon = _rect(driver, ".mp-org-icon")
    assert (icon["width"], icon["height"]) == (80 * SCALE, 80 * SCALE)
    for i in range(3):
        r = driver.execute_script(
            "const r = document.querySelectorAll('.mp-channel-icon')[arguments[0]].getBoundingClientRect();"
            "return [r.width, r.height];", i)
        assert r == [50 * SCALE, 50 * SCALE]
    btn = _style(driver, ".mp-pay-btn", "background-color", "color")
    assert btn == {"background-color": rgb(PRIMARY), "color": rgb(WHITE)}
    # The institution sits on the primary colour, in white.
    assert _style(driver, ".mp-hero", "background-image")["background-image"].startswith(
        f"linear-gradient({rgb(PRIMARY)}")
    # The pay bar is fixed to the bottom of the screen.
    bar = _rect(driver, ".mp-paybar")
    assert bar["y"] + bar["height"] == HEIGHT and bar["width"] == WIDTH


def test_sizes_scale_with_the_screen(driver, pages):
    """The conversion is by width: 28 design px is 14px at 375, x414/750 at 414, and
    capped at the 540 px column on a desktop."""
    _open(driver, pages.base + "/multi")
    try:
        for width, expected in ((320, 28 * 320 / 750), (414, 28 * 414 / 750), (1280, 28 * 540 / 750)):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": HEIGHT, "deviceScaleFactor": DPR, "mobile": True})
            size = driver.execute_script(
                "return parseFloat(getComputedStyle(document.querySelector('.mp-detail-link')).fontSize)")
            assert abs(size - expected) < 0.01, (width, size)
            # Nothing sticks out sideways, down to a 320 px phone.
            assert driver.execute_script("return document.documentElement.scrollWidth") == width
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": DPR, "mobile": True})
    assert driver.execute_script("return innerWidth") == WIDTH


def test_breakdown_shows_the_four_parts(driver, pages):
    _open(driver, pages.base + "/multi")
    rows = driver.execute_script(
        "return [...document.querySelectorAll('.mp-splits li')].map(li => li.innerText.replace(/\\s+/g, ' '))")
    assert rows == ["医保基金支付 ¥62.80", "个人账户支付 ¥30.00", "其他抵扣金额 ¥5.00", "现金支付 ¥27.80"]
    assert driver.execute_script("return document.querySelector('.mp-total').innerText.replace(/\\s+/g, ' ')") \
        == "费用总额 ¥125.60"
    assert driver.execute_script("return document.getElementById('mp-pay-amount').innerText") == "¥27.80"


def test_detail_popup_opens_on_view_details(driver, pages):
    _open(driver, pages.base + "/multi")
    assert not _visible(driver, "#mp-detail .mp-sheet")
    _open_detail(driver)
    assert _visible(driver, "#mp-detail .mp-sheet")
    titles = driver.execute_script(
        "return [...document.querySelectorAll('#mp-detail .mp-info-title')].map(h => h.innerText)")
    assert titles == ["就诊信息", "诊断信息", "特殊信息", "费用明细", "其他抵扣金额"]
    fees = driver.execute_script(
        """return [...document.querySelectorAll('[data-section=fees] .mp-fee')].map(f => [
            f.querySelector('.mp-fee-name').innerText, f.querySelectorAll('.mp-info-spec')[0].innerText,
            f.querySelectorAll('.mp-info-spec')[1].innerText, f.querySelector('.mp-info-amount').innerText])""")
    assert fees == [
        ["阿莫西林胶囊", "0.25g*24粒/盒", "¥18.50 × 2", "¥37.00"],
        ["布洛芬缓释胶囊", "0.3g*20粒/盒", "¥26.80 × 1", "¥26.80"],
        ["复方甘草片", "8g/片/3", "¥4.20 × 3", "¥12.60"],
        ["血常规检查（五分类）", "次", "¥25.00 × 1", "¥25.00"],
        ["普通门诊诊查费", "次", "¥24.20 × 1", "¥24.20"],
    ]
    visit = driver.execute_script("return document.querySelector('[data-section=visit]').innerText")
    for text in ("普通门诊", "呼吸内科门诊", "李医生", "2026-11-25 09:30:00"):
        assert text in visit
    diag = driver.execute_script("return document.querySelector('[data-section=diagnosis]').innerText")
    assert "急性上呼吸道感染" in diag and "J06.900" in diag
    assert "医院减免" in driver.execute_script(
        "return document.querySelector('[data-section=deductions]').innerText")
    # The sheet sits at the bottom of the screen and scrolls inside itself.
    sheet = _rect(driver, ".mp-sheet")
    assert abs(sheet["y"] + sheet["height"] - HEIGHT) < 1 and sheet["height"] <= HEIGHT * 0.88 + 1
    assert driver.execute_script(
        "const b = document.querySelector('.mp-sheet-body'); return b.scrollHeight > b.clientHeight")
    assert driver.execute_script("return document.body.classList.contains('mp-lock')")
    # Closing: the x, then again through a tap on the mask above the sheet.
    driver.find_element("css selector", ".mp-sheet-close").click()
    assert not _visible(driver, "#mp-detail .mp-sheet")
    _open_detail(driver)
    driver.execute_script(
        "document.elementFromPoint(arguments[0], arguments[1]).click()", WIDTH // 2, 20)
    assert not _visible(driver, "#mp-detail .mp-sheet")
    assert not driver.execute_script("return document.body.classList.contains('mp-lock')")


def test_table_a4_popup_styles(driver, pages):
    _open(driver, pages.base + "/multi")
    _open_detail(driver)
    for row, selector, size, weight, colour in A4_TEXT:
        s = _style(driver, selector, "font-size", "font-weight", "color")
        assert s == {"font-size": px(size), "font-weight": weight, "color": rgb(colour)}, row
    sheet = _style(driver, ".mp-sheet", "border-top-left-radius", "border-top-right-radius")
    assert sheet == {"border-top-left-radius": px(32), "border-top-right-radius": px(32)} == {
        "border-top-left-radius": "16px", "border-top-right-radius": "16px"}
    info = _style(driver, ".mp-info-card", "border-top-left-radius", "box-shadow")
    assert info == {"border-top-left-radius": px(12), "box-shadow": f"{rgb(BORDER)} 0px 0px 0px {px(2)} inset"}


def test_multi_channel_layout(driver, pages):
    _open(driver, pages.base + "/multi")
    assert driver.execute_script("return document.querySelector('.mp-channels').dataset.layout") == "multi"
    assert driver.execute_script("return document.querySelector('.mp-channel-card .mp-section-title').innerText") \
        == "选择支付方式"
    names = driver.execute_script("return [...document.querySelectorAll('.mp-channel-name')].map(n => n.innerText)")
    assert names == ["微信支付", "支付宝", "银联云闪付"]
    assert driver.execute_script("return document.querySelectorAll('.mp-radio').length") == 3
    form_value = "return new FormData(document.getElementById('mp-pay-form')).get('chnlType')"
    assert driver.execute_script(form_value) == "WX"
    # The selected row shows a filled primary radio; the others an empty one.
    assert _style(driver, ".mp-channel.is-selected .mp-radio", "background-color")["background-color"] == rgb(PRIMARY)
    driver.find_element("css selector", ".mp-channel[data-channel=ZFB]").click()
    assert driver.execute_script(form_value) == "ZFB"
    selected = driver.execute_script(
        "return [...document.querySelectorAll('.mp-channel.is-selected')].map(c => c.dataset.channel)")
    assert selected == ["ZFB"]
    # Rows are separated by a hairline; each row is a comfortable tap target.
    rows = driver.execute_script(
        "return [...document.querySelectorAll('.mp-channel')].map(c => c.getBoundingClientRect().height)")
    assert all(h >= 104 * SCALE for h in rows)
    assert _style(driver, "li + li > .mp-channel", "border-top-style")["border-top-style"] == "solid"


def test_single_channel_layout(driver, pages):
    _open(driver, pages.base + "/single")
    assert driver.execute_script("return document.querySelector('.mp-channels').dataset.layout") == "single"
    assert driver.execute_script("return document.querySelector('.mp-channel-card .mp-section-title').innerText") \
        == "支付方式"
    assert driver.execute_script("return document.querySelectorAll('.mp-channel').length") == 1
    assert driver.execute_script("return document.querySelectorAll('input[type=radio]').length") == 0
    assert driver.execute_script("return new FormData(document.getElementById('mp-pay-form')).get('chnlType')") == "WX"
    assert _style(driver, ".mp-single-check", "background-color")["background-color"] == rgb(PRIMARY)
    assert _visible(driver, ".mp-single-check")


def test_pay_button_shows_dialog_loading_and_blocks_a_second_submit(driver, pages):
    _open(driver, pages.base + "/multi")
    assert not _visible(driver, "#mp-loading")
    # Stop the real submission after the page's own handler ran (it runs first).
    driver.execute_script(
        "document.getElementById('mp-pay-form').addEventListener('submit', e => e.preventDefault())")
    driver.find_element("id", "mp-pay-btn").click()
    assert _visible(driver, "#mp-loading .mp-loading-box")
    text = driver.execute_script("return document.querySelector('#mp-loading .mp-loading-text').innerText")
    assert text == "支付中" and len(text) <= 8  # 3.8 d): dialog-level text within 8 characters
    assert driver.execute_script("return document.getElementById('mp-pay-btn').disabled")
    box = _rect(driver, ".mp-loading-box")
    assert abs(box["x"] + box["width"] / 2 - WIDTH / 2) < 1 and abs(box["y"] + box["height"] / 2 - HEIGHT / 2) < 1
    assert _style(driver, ".mp-loading-text", "color", "font-size") == {"color": rgb(WHITE), "font-size": px(28)}


def test_pay_button_posts_the_form(driver, pages):
    before = len(pages.posts)
    _open(driver, pages.base + "/multi")
    driver.find_element("css selector", ".mp-channel[data-channel=YL]").click()
    driver.find_element("id", "mp-pay-btn").click()
    _wait(driver, "document.querySelector('.mp-result-title') !== null")
    assert driver.find_element("css selector", ".mp-result-title").text == "支付成功"
    path, form = pages.posts[before]
    assert path == "/pay"
    assert form == {"payOrdId": ["ORD350100202611251821000001"], "chnlType": ["YL"]}


def test_page_level_loading(driver, pages):
    _open(driver, pages.base + "/multi")
    assert not _visible(driver, "#mp-page-loading")
    long_text = "正在向医保移动支付中心确认本次结算的结果，请不要关闭页面，也不要重复点击支付按钮"
    driver.execute_script("MedpayCashier.showPageLoading(arguments[0])", long_text)
    assert _visible(driver, "#mp-page-loading")
    cover = _rect(driver, "#mp-page-loading")
    assert (cover["x"], cover["y"], cover["width"], cover["height"]) == (0, 0, WIDTH, HEIGHT)
    s = _style(driver, ".mp-page-loading-text", "max-width", "color", "font-size")
    # 3.8 c): one line at most 560 design px wide, longer text wraps.
    assert s == {"max-width": px(560), "color": rgb(AUX), "font-size": px(28)}
    text = _rect(driver, ".mp-page-loading-text")
    assert text["width"] <= 560 * SCALE and text["height"] >= 2 * 28 * SCALE
    assert _visible(driver, "#mp-page-loading .mp-spinner")
    driver.execute_script("MedpayCashier.hidePageLoading()")
    assert not _visible(driver, "#mp-page-loading")
    # The standalone loading page.
    _open(driver, pages.base + "/loading")
    assert _visible(driver, "#mp-page-loading")
    assert "请稍候" in driver.find_element("css selector", ".mp-page-loading-text").text


def test_one_button_dialog_for_an_error(driver, pages):
    _open(driver, pages.base + "/error")
    assert _visible(driver, "#mp-error-dialog .mp-dialog")
    msg = driver.find_element("css selector", "#mp-error-dialog .mp-dialog-msg").text
    assert msg == "订单已过期，请返回医院重新下单。<b>x</b>"  # shown as text, not markup
    buttons = driver.execute_script(
        "return [...document.querySelectorAll('#mp-error-dialog .mp-dialog-btn')].map(b => b.innerText)")
    assert buttons == ["我知道了"]
    assert _style(driver, "#mp-error-dialog .mp-dialog-btn", "color")["color"] == rgb(PRIMARY)
    d = _rect(driver, "#mp-error-dialog .mp-dialog")
    assert d["width"] == 600 * SCALE and abs(d["x"] + d["width"] / 2 - WIDTH / 2) < 1
    assert _style(driver, "#mp-error-dialog .mp-dialog-title", "color")["color"] == rgb(MAIN)
    _click_text(driver, "我知道了")
    assert not _visible(driver, "#mp-error-dialog .mp-dialog")


def test_two_button_dialog_to_give_up(driver, pages):
    _open(driver, pages.base + "/multi")
    _click_text(driver, "放弃支付")
    assert _visible(driver, "#mp-cancel-dialog .mp-dialog")
    buttons = driver.execute_script(
        "return [...document.querySelectorAll('#mp-cancel-dialog .mp-dialog-btn')].map(b => b.innerText)")
    assert buttons == ["继续支付", "放弃支付"]
    colours = driver.execute_script(
        "return [...document.querySelectorAll('#mp-cancel-dialog .mp-dialog-btn')]"
        ".map(b => getComputedStyle(b).color)")
    assert colours == [rgb(TITLE), rgb(PRIMARY)]
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, "//div[@id='mp-cancel-dialog']//button[normalize-space()='继续支付']").click()
    assert not _visible(driver, "#mp-cancel-dialog .mp-dialog")
    _click_text(driver, "放弃支付")
    driver.find_element(By.XPATH, "//div[@id='mp-cancel-dialog']//button[normalize-space()='放弃支付']").click()
    _wait(driver, "document.querySelector('.mp-result-title') !== null")
    assert driver.find_element("css selector", ".mp-result-title").text == "已放弃支付"


def test_runtime_dialogs_from_script(driver, pages):
    _open(driver, pages.base + "/multi")
    # Two buttons: resolves true on the primary one.
    driver.execute_script(
        "window.__answer = null; MedpayCashier.confirm('确认', '<i>文案</i>').then(v => window.__answer = v)")
    wrap = "document.querySelector('.mp-dialog-wrap[data-kind=two]:not([hidden])')"
    assert driver.execute_script(f"return {wrap}.querySelector('.mp-dialog-msg').textContent") == "<i>文案</i>"
    assert driver.execute_script(f"return {wrap}.querySelectorAll('.mp-dialog-btn').length") == 2
    driver.execute_script(f"{wrap}.querySelector('.is-primary').click()")
    assert driver.execute_script("return window.__answer") is True
    # One button.
    driver.execute_script("MedpayCashier.alert('提示', '信息')")
    assert driver.execute_script(
        "return document.querySelectorAll('.mp-dialog-wrap[data-kind=one]:not([hidden]) .mp-dialog-btn').length") == 1


def test_no_external_requests(driver, pages):
    driver.get_log("performance")
    for path in ("/multi", "/single", "/error", "/loading"):
        driver.get(pages.base + path)
        if path in ("/multi", "/single"):
            _click_text(driver, "查看明细")
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0, path
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    assert urls, "the performance log recorded no request at all"
    outside = [u for u in urls if not (u.startswith(pages.base + "/") or u.startswith("data:"))]
    assert outside == []


def test_demo_server(driver):
    server = cp.serve_demo(0)
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        _open(driver, base + "/")
        assert driver.find_element("css selector", ".mp-org-name").text == "福州市第一人民医院"
        _open(driver, base + "/single")
        assert driver.execute_script("return document.querySelector('.mp-channels').dataset.layout") == "single"
        driver.find_element("id", "mp-pay-btn").click()
        _wait(driver, "document.querySelector('.mp-result-title') !== null")
        assert driver.find_element("css selector", ".mp-result-title").text == "支付成功"
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------- end to end


class _Institution:
    """The institution's side on 127.0.0.1: the returnUrl page (6204 redirect) and the
    notifyUrl (6302), which acknowledges every notice."""

    def __init__(self) -> None:
        self.returns: list[dict[str, list[str]]] = []
        self.notices: list[bytes] = []
        self.noticed = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, ctype: str, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                path, _, query = self.path.partition("?")
                if path == "/return":
                    owner.returns.append(parse_qs(query))
                self._send("text/html; charset=utf-8",
                           '<!DOCTYPE html><meta charset="utf-8"><h1 id="returned">已返回医院</h1>'.encode())

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.notices.append(body)
                self._send("application/json",
                           json.dumps({"code": "0", "msg": "ok", "data": {"success": True, "message": "ok"}}).encode())
                owner.noticed.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _fee_upload(org_codg: str) -> dict:
    """A complete outpatient 6201 request (tables 3, 5 and 6)."""
    lines = [
        ("阿莫西林胶囊", "0.25g*24粒/盒", "2.0000", "18.500000", "37.00"),
        ("复方甘草片", "8g/片/3", "3.0000", "4.200000", "12.60"),
    ]
    common = {"psnNo": "P35010000001", "chrgBchno": "CB20261125001", "medType": "11"}  # also per line
    return {
        "orgCodg": org_codg, "insutype": "310", "medOrgOrd": "MO-E2E-0001", "begntime": "2026-11-25 09:30:00",
        "idNo": "350181199011193519", "userName": "张三", "idType": "01", "ecToken": "EC" + "0" * 30,
        "iptOtpNo": "MZ20261125000123", "atddrNo": "D001", "drName": "李医生", "deptCode": "0301",
        "deptName": "呼吸内科门诊", "caty": "A03", "feeType": "01", "medfeeSumamt": D("49.60"),
        "acctUsedFlag": "1", "diseCodg": "J06.900", "diseName": "急性上呼吸道感染", "psnSetlway": "01",
        "pubHospRfomFlag": "0", **common,
        "diseinfoList": [{
            "diagType": "1", "diagSrtNo": 1, "diagCode": "J06.900", "diagName": "急性上呼吸道感染",
            "diagDept": "呼吸内科", "diseDorNo": "D001", "diseDorName": "李医生",
            "diagTime": "2026-11-25 09:40:00", "valiFlag": "1",
        }],
        "feedetailList": [{
            "feedetlSn": f"F{i}", "rxCircFlag": "0", "feeOcurTime": "2026-11-25 09:45:00",
            "medListCodg": f"XA01AAA{i:04d}", "medinsListCodg": f"H{i:04d}", "detItemFeeSumamt": D(amt),
            "cnt": D(cnt), "pric": D(pric), "bilgDeptCodg": "0301", "bilgDeptName": "呼吸内科",
            "bilgDrCodg": "D001", "bilgDrName": "李医生", "hospApprFlag": "1", "medListName": name,
            "medListSpc": spec, **common,
        } for i, (name, spec, cnt, pric, amt) in enumerate(lines, 1)],
    }


def test_end_to_end_pay_button_settles_the_order_and_the_6302_notice_arrives(driver):
    """The sandbox's own cashier page: 6201, open the cashier link, pay with the button;
    the browser lands on the institution's returnUrl with the 6204 query, the order is
    paid and the 6302 notice reaches the notifyUrl."""
    inst = _Institution()
    config = generate_config(notify_url=inst.base + "/notify", return_url=inst.base + "/return",
                             name="沙箱测试医院", org_codg="H35010000001")
    try:
        with SandboxServer(config) as sb:
            creds = sb.client_credentials()
            codec = EnvelopeCodec(creds)
            reply = httpx.post(sb.url + "/org/local/api/hos/uldFeeInfo",
                               content=codec.pack_json(_fee_upload("H35010000001")),
                               headers={"Content-Type": "application/json"})
            answer = codec.unpack(reply.content)
            assert answer.code == 0, answer.message
            pay_ord_id = answer.data["payOrdId"]
            link = cashier_url(answer.data["cashierUrl"], creds, "AUTH" + "E2E" * 8)

            driver.get(link)
            # The sandbox serves this module's page, filled from the order.
            assert driver.find_element("css selector", ".mp-org-name").text == "沙箱测试医院"
            state = httpx.get(f"{sb.url}/sandbox/orders/{pay_ord_id}").json()
            split = state["split"]
            shown = driver.execute_script(
                "return Object.fromEntries([...document.querySelectorAll('.mp-splits li')]"
                ".map(li => [li.dataset.k, li.lastElementChild.innerText]))")
            assert shown["fund"] == "¥" + split["fund"] and shown["acct"] == "¥" + split["acct"]
            assert shown["cash"] == "¥" + split["cash"]
            assert driver.find_element("css selector", ".mp-total-amt").text == "¥49.60"
            assert _style(driver, ".mp-pay-btn", "background-color")["background-color"] == rgb(PRIMARY)
            _open_detail(driver)
            names = driver.execute_script(
                "return [...document.querySelectorAll('[data-section=fees] .mp-fee-name')].map(n => n.innerText)")
            assert names == ["阿莫西林胶囊", "复方甘草片"]
            driver.find_element("css selector", ".mp-sheet-close").click()
            assert driver.execute_script("return document.querySelector('.mp-channels').dataset.layout") == "multi"
            driver.find_element("css selector", ".mp-channel[data-channel=ZFB]").click()

            driver.find_element("id", "mp-pay-btn").click()
            _wait(driver, "document.getElementById('returned') !== null")

            # 6204: the browser came back with mpcAppId, encData and chnlType.
            assert len(inst.returns) == 1
            query = inst.returns[0]
            assert query["mpcAppId"] == [config["institutions"][0]["appId"]]
            assert query["chnlType"] == ["ZFB"]
            sync = codec.decrypt_data(query["encData"][0])
            assert sync["payOrdId"] == pay_ord_id and str(sync["feeSumamt"]) == "49.60"

            # 6302: the notice arrives (the wait only guards against a hang).
            assert inst.noticed.wait(120), "no 6302 notice reached the notifyUrl"
            notice = codec.unpack(inst.notices[0]).data
            assert notice["payOrdId"] == pay_ord_id and notice["medOrgOrd"] == "MO-E2E-0001"
            assert str(notice["ownpayAmt"]) == split["cash"]

            state = httpx.get(f"{sb.url}/sandbox/orders/{pay_ord_id}").json()
            assert state["status"] == "PAID" and str(state["ordStas"]) == "6"
            assert state["payment"]["channel"] == "cashier:ZFB"
    finally:
        inst.close()
