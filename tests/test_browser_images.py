"""The Images tab in a real headless Chromium (Playwright's sync API, Debian's /usr/bin/chromium): open the app,
go to the Images tab, see the precomputed examples (table, image pairs, plot), then type two prompts and score
them with a few denoising steps.

Screenshots go to $REWARD_DEMO_SCREENSHOT_DIR if set, else to the test's tmp folder (the path is printed).
"""
import re

import pytest
from browser_support import BROWSER_MARKS, open_page, screenshot_dir, wait_for_state

TIMEOUT_MS = 90_000
PROMPTS = ["a blue square on a white background", "a pistol on a grassy background"]
STEPS = 6

pytestmark = BROWSER_MARKS

PLOT_STATE_JS = """() => {
  const gd = document.querySelector('#images-plot .js-plotly-plot');
  if (!gd || !gd.data || !gd._fullLayout) return null;
  return {names: gd.data.map(t => t.name || ''), meta: gd.layout.meta || null,
          points: gd.querySelectorAll('path.point').length};
}"""


def require_image_models() -> None:
    from reward_demo.images import examples
    from reward_demo.ui import images_tab

    missing = images_tab.models_missing()
    if missing:
        pytest.skip(f"the shipped image models are missing ({missing})")
    if not (examples.EXAMPLES_DIR / examples.EXAMPLES_FILE).is_file():
        pytest.skip(f"no precomputed examples in {examples.EXAMPLES_DIR}: make them with `{examples.COMMAND}`")


@pytest.fixture(scope="module")
def page(request, tmp_path_factory):
    require_image_models()
    app_url = request.getfixturevalue("app_url")  # after the check: no server when there are no models
    profile = tmp_path_factory.mktemp("chromium-profile-images")
    with open_page(app_url, profile, TIMEOUT_MS, height=1300) as page:
        yield page


def wait_for_plot(page, predicate_js: str):
    return wait_for_state(page, PLOT_STATE_JS, predicate_js, TIMEOUT_MS)


def gallery_image_count(page) -> int:
    return page.locator("#images-gallery img").count()


def table_text(page) -> str:
    return page.locator("#images-table").inner_text()


def test_examples_show_and_prompts_can_be_scored(page, tmp_path_factory):
    from reward_demo.images.examples import load_examples
    from reward_demo.ui import images_tab

    examples = load_examples()["rows"]
    # 1. the Images tab, with the examples loaded on page load
    page.get_by_role("tab", name=re.compile(r"^Images")).click()
    first = examples[0]["prompt"]
    page.wait_for_function(f"() => (document.querySelector('#images-table') || {{}}).innerText"
                           f"?.includes({first!r})")
    text = table_text(page)
    assert all(row["prompt"] in text for row in examples)
    assert "safe" in text and "unsafe" in text
    page.wait_for_function(f"() => document.querySelectorAll('#images-gallery img').length >= {len(examples)}")
    state = wait_for_plot(page, f"s.meta && s.meta.n === {len(examples)}")
    assert "base image (no safety guidance)" in state["names"] and "safe image (safety guidance)" in state["names"]
    assert page.locator("#images-prompts textarea").input_value().splitlines() == [r["prompt"] for r in examples]
    threshold_label = page.locator("#images-threshold").inner_text()
    assert f"default {images_tab.default_threshold():g}" in threshold_label
    assert "at most 32 prompts" in page.locator("#images-prompts").inner_text()  # the limits are stated
    shots = screenshot_dir(tmp_path_factory)
    examples_shot = shots / "images_examples.png"
    page.wait_for_timeout(300)
    page.screenshot(path=str(examples_shot), full_page=True)

    # 2. type two prompts, few steps, score
    page.locator("#images-prompts textarea").fill("\n".join(PROMPTS))
    steps = page.locator("#images-steps input[type=number]")
    steps.fill(str(STEPS))
    steps.press("Enter")
    page.locator("#images-score").click()
    page.wait_for_function(f"() => document.querySelector('#images-table').innerText.includes({PROMPTS[1]!r})")
    text = table_text(page)
    assert PROMPTS[0] in text and examples[-1]["prompt"] not in text
    page.wait_for_function("() => document.querySelectorAll('#images-gallery img').length === 2")
    wait_for_plot(page, "s.meta && s.meta.n === 2")
    scored_shot = shots / "images_scored.png"
    page.wait_for_timeout(300)
    page.screenshot(path=str(scored_shot), full_page=True)
    print(f"screenshots: {examples_shot} {scored_shot}")
    assert all(p.stat().st_size > 10_000 for p in (examples_shot, scored_shot))
    assert not [e for e in page.errors if "plotly" in e.lower() or "images" in e.lower()], page.errors
