"""Headless Chromium for the page tests: Debian's ``chromium`` and ``chromium-driver``
(``make browser``) driven by Selenium (no driver or browser download), a tiny page server
on 127.0.0.1, and the DOM helpers the tests share."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qs

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("MEDPAY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MEDPAY_CHROMEDRIVER", "/usr/bin/chromedriver")
DPR = 2


def browser_missing() -> Optional[str]:
    """Why the browser tests cannot run here, or None. Chromium is a system package
    (``make browser``, which ``make test`` and CI run), not a test extra."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        return f"needs {CHROMIUM} and {CHROMEDRIVER} (run `make browser`)"
    return None


def start_driver(width: int = 375, height: int = 812) -> webdriver.Chrome:
    """A mobile-emulating headless Chromium (2x screen); skips, or fails under CI, when
    there is no browser."""
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.add_experimental_option(
        "mobileEmulation",
        {"deviceMetrics": {"width": width, "height": height, "pixelRatio": DPR, "touch": True, "mobile": True},
         "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"},
    )
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


def set_viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    """Emulate another phone in the same browser."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": DPR, "mobile": True})


def rgb(hex_colour: str) -> str:
    """``#3B71E8`` as getComputedStyle writes it."""
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


def style(driver: Any, selector: str, *props: str, pseudo: Optional[str] = None) -> dict:
    return driver.execute_script(
        """const el = document.querySelector(arguments[0]);
        if (!el) { return null; }
        const s = getComputedStyle(el, arguments[2]);
        const out = {};
        for (const p of arguments[1]) { out[p] = s.getPropertyValue(p); }
        return out;""",
        selector, list(props), pseudo,
    )


def rect(driver: Any, selector: str) -> dict:
    return driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {x: r.x, y: r.y, width: r.width, height: r.height};", selector)


def visible(driver: Any, selector: str) -> bool:
    return driver.execute_script(
        """const el = document.querySelector(arguments[0]);
        if (!el) { return false; }
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';""", selector)


def finish_animations(driver: Any) -> None:
    driver.execute_script(
        "document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)"
        ".forEach(a => a.finish());")


def click_text(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//*[self::button or self::a or self::label][normalize-space()='{text}']").click()


def wait_for(driver: Any, js_condition: str) -> None:
    """Wait for a page condition after a navigation. The limit only guards against a
    hang; nothing here measures time."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return " + js_condition))


class PageServer:
    """A tiny 127.0.0.1 server: GET serves ``pages[path]``, POST records the form and
    answers with ``on_post(path, form)``'s HTML."""

    def __init__(self, on_post: Callable[[str, dict[str, list[str]]], str]) -> None:
        self.pages: dict[str, str] = {}
        self.posts: list[tuple[str, dict[str, list[str]]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                page = owner.pages.get(self.path.split("?")[0])
                self._send(200 if page else 404, page or "not found")

            def do_POST(self) -> None:  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                owner.posts.append((self.path, form))
                self._send(200, on_post(self.path, form))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
