"""The README's screenshot of each tab, taken in headless Chromium from the app served in-process:

    python -m reward_demo.ui.screenshots [--out assets/screenshots]

Needs the test requirements (Playwright) and Debian's Chromium at /usr/bin/chromium. Each tab is shown as a
first-time visitor sees it after the page has loaded its examples; images are palette-quantised to stay small.
"""
from __future__ import annotations

import argparse
import os
import socket
import tempfile
from pathlib import Path

from ..options import ASSETS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: tab label -> a selector that is present once the tab shows its content
TABS = {"Maze": "#maze-plot .js-plotly-plot", "Locomotion": "#loco-video-steered video",
        "Images": "#images-gallery img"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_small_png(source: Path, target: Path, colours: int = 128) -> None:
    from PIL import Image

    Image.open(source).convert("RGB").quantize(colours, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def take(out: Path, width: int = 1400, height: int = 1000) -> list:
    from playwright.sync_api import sync_playwright

    from .app import build_app, launch

    demo = build_app()
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
            context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                           args=CHROMIUM_ARGS,
                                                           viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(90_000)
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            for label, ready in TABS.items():
                page.get_by_role("tab", name=label, exact=True).click()
                page.wait_for_selector(ready, state="visible")
                page.wait_for_timeout(1500)
                tab = page.locator(f"#tab-{label.lower()}")
                raw = out / f".{label.lower()}.raw.png"
                tab.screenshot(path=str(raw))
                target = out / f"{label.lower()}.png"
                save_small_png(raw, target)
                raw.unlink()
                written.append(target)
            context.close()
    finally:
        demo.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ASSETS / "screenshots")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for path in take(args.out):
        print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
