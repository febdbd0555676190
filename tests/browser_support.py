"""What the real-browser tests share: Debian's Chromium driven by Playwright's sync API (never `playwright
install`, which downloads a browser), a page opened on the app, and where screenshots go."""
import contextlib
import json
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: module-level marks of every browser test file
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.slow,
                 pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium chromium-driver)")]


@contextlib.contextmanager
def open_page(app_url: str, profile: Path, timeout_ms: int, height: int = 1200, width: int = 1400,
              color_scheme: str = "light"):
    """A Chromium page on ``app_url`` (``width`` 390 is a phone; ``color_scheme`` "dark" is the browser's dark
    mode, which Gradio follows); ``page.errors`` collects uncaught JavaScript errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=CHROMIUM_ARGS, viewport={"width": width, "height": height},
                                                       color_scheme=color_scheme)
        try:
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(app_url, wait_until="domcontentloaded")
            page.errors = errors
            yield page
        finally:
            context.close()


def screenshot_dir(tmp_path_factory) -> Path:
    """$REWARD_DEMO_SCREENSHOT_DIR if set, else a tmp folder of the test session."""
    folder = os.environ.get("REWARD_DEMO_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_for_state(page, state_js: str, predicate_js: str, timeout_ms: int, arg=None) -> dict:
    """Wait until ``predicate_js`` (a JS expression over ``s``) holds for ``s = state_js(arg)``, a JS function
    returning the page's state or null; return that state."""
    page.wait_for_function(f"() => {{ const s = ({state_js})({json.dumps(arg)}); return s && ({predicate_js}); }}",
                           timeout=timeout_ms)
    return page.evaluate(state_js, arg)
