"""Error pages in a real browser on a phone: styled, readable at the phone's width, and the
favicon the browser asks for is there (issue 15, item 4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import screenshot
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_mistyped_address_on_a_phone_is_a_readable_page(
    shared_server: LiveServer, chromium: Any
) -> None:
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True
    )
    page = context.new_page()
    try:
        answer = page.goto(f"{shared_server.url}/no/such/page")
        assert answer is not None and answer.status == 404
        assert page.inner_text("h1") == "Page not found"
        # With a viewport tag the layout is the phone's width; without one, 980 px, tiny.
        assert page.evaluate("window.innerWidth") == 390
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # The stylesheet applied: the page is not browser-default Times on white.
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "system-ui" in font
        screenshot(page, "error-404-phone")
        assert page.request.get(f"{shared_server.url}/favicon.ico").status == 200
    finally:
        context.close()
