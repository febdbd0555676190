"""The Images tab in a real headless Chromium (Playwright's sync API, Debian's /usr/bin/chromium), as a visitor
uses it: the precomputed examples (coloured verdicts, notes on unknown words, label agreement), two typed prompts
scored with a few denoising steps, every error a visitor can cause in the browser (toast naming the input, the
last results kept), and the tab at phone width (390 px) and in dark mode.

Screenshots go to $REWARD_DEMO_SCREENSHOT_DIR if set, else to the test's tmp folder (the path is printed).
"""
import re

import pytest
from browser_support import BROWSER_MARKS, open_page, screenshot_dir, wait_for_state

from reward_demo.images.prompts import EXAMPLE_PROMPTS
from reward_demo.images.verdicts import verdict

TIMEOUT_MS = 90_000
PROMPTS = ["a blue square on a white background", "a puppy next to a pistol"]
STEPS = 6
CUSTOM_PRESET = "max: momentum_scale=0"  # a preset with SLD settings after it, as the preset box takes it

pytestmark = BROWSER_MARKS

PLOT_STATE_JS = """() => {
  const gd = document.querySelector('#images-plot .js-plotly-plot');
  if (!gd || !gd.data || !gd._fullLayout) return null;
  return {names: gd.data.map(t => t.name || ''), meta: gd.layout.meta || null,
          points: gd.querySelectorAll('path.point').length, paper: gd._fullLayout.paper_bgcolor};
}"""

#: per table row, the number of text lines of each cell ("-3.969" broken as "-3.96 / 9" counts 2)
CELL_LINES_JS = """() => { const rows = {};
  for (const cell of document.querySelectorAll('#images-table [data-row][data-col]')) {
    const tops = new Set(), walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || !node.parentElement.offsetParent) continue;
      const range = document.createRange(); range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
    }
    (rows[cell.dataset.row] = rows[cell.dataset.row] || [])[Number(cell.dataset.col)] = tops.size;
  }
  return Object.values(rows); }"""


def require_image_models(service) -> None:
    from reward_demo.images import demo as images_demo

    missing = service.models_missing()
    if missing:
        pytest.skip(f"the shipped image models are missing ({missing})")
    if not (images_demo.EXAMPLES_DIR / images_demo.EXAMPLES_FILE).is_file():
        pytest.skip(f"no precomputed examples in {images_demo.EXAMPLES_DIR}: make them with `{images_demo.COMMAND}`")


def open_images_tab(page) -> None:
    """Click the Images tab (on a narrow screen it may sit in the tab bar's "More tabs" menu) and wait for the
    examples, which load with the page."""
    page.wait_for_selector(".tab-wrapper")
    tab = page.get_by_role("tab", name=re.compile(r"^Images"))
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.locator('button[aria-label="More tabs"]').click()
        page.locator(".overflow-dropdown button", has_text="Images").click()
    first = EXAMPLE_PROMPTS[0].prompt
    page.wait_for_function(f"() => (document.querySelector('#images-table') || {{}}).innerText?.includes({first!r})")


@pytest.fixture(scope="module")
def app(request, app_services):
    require_image_models(app_services.images)
    return request.getfixturevalue("app_url")  # after the check: no server when there are no models


@pytest.fixture(scope="class")
def images_page(app, tmp_path_factory):
    """One desktop page for the tests of ``TestDesktop`` (closed before the phone and dark pages open: Playwright's
    sync API runs one browser session at a time)."""
    with open_page(app, tmp_path_factory.mktemp("chromium-profile-images"), TIMEOUT_MS, height=1300) as page:
        yield page


def wait_for_plot(page, predicate_js: str):
    return wait_for_state(page, PLOT_STATE_JS, predicate_js, TIMEOUT_MS)


def gallery_image_count(page) -> int:
    return page.locator("#images-gallery img").count()


def table_text(page) -> str:
    return page.locator("#images-table").inner_text()


def toast_texts(page) -> list:
    return page.evaluate("() => Array.from(document.querySelectorAll('.toast-body')).map(e => e.innerText)")


def close_toasts(page) -> None:
    page.evaluate("() => document.querySelectorAll('.toast-close').forEach(button => button.click())")
    page.wait_for_function("() => document.querySelectorAll('.toast-body').length === 0")


def expect_toast(page, message: str) -> None:
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('.toast-body'))"
                           f".some(e => e.innerText.includes({message!r}))")


class TestDesktop:
    """A visitor at 1400 px: examples, a scored run, then every error they can cause."""

    def test_examples_show_and_prompts_can_be_scored(self, images_page, app_services, tmp_path_factory):
        examples = app_services.images.load_examples()["rows"]
        # 1. the Images tab, with the examples loaded on page load
        open_images_tab(images_page)
        text = table_text(images_page)
        assert all(row["prompt"] in text for row in examples)
        assert "safe" in text and "unsafe" in text and "unknown words: puppy" in text
        images_page.wait_for_function(
            f"() => document.querySelectorAll('#images-gallery img').length >= {2 * len(examples)}")
        assert images_page.locator("#images-gallery").get_by_text("#1 base").count() == 1
        state = wait_for_plot(images_page, f"s.meta && s.meta.n === {len(examples)}")
        assert "base image (no safety guidance)" in state["names"] and "safe image (safety guidance)" in state["names"]
        prompts = images_page.locator("#images-prompts textarea").input_value().splitlines()
        assert prompts == [r["prompt"] for r in examples]
        threshold_label = images_page.locator("#images-threshold").inner_text()
        assert f"default {app_services.images.default_threshold():g}" in threshold_label
        # the band (or that there is none) is stated where the threshold is set
        band = app_services.images.default_half_width()
        assert ("uncertain between" if band > 0 else "at or above the threshold is judged safe") in threshold_label
        assert "at most 32 prompts" in images_page.locator("#images-prompts").inner_text()  # the limits are stated
        # the labels of the examples are compared with the verdicts; unknown words are named
        images_page.wait_for_function(
            f"() => document.querySelector('#images-notes').innerText.includes('Labels given for {len(examples)}')")
        assert "'puppy'" in images_page.locator("#images-notes").inner_text()
        assert "nothing was generated" in images_page.locator("#images-run-status").inner_text()
        # verdict cells are coloured
        colours = images_page.evaluate("""() => Array.from(
            document.querySelectorAll('#images-table [data-row][data-col="6"]'))
            .map(cell => getComputedStyle(cell).backgroundColor)""")
        assert len(colours) == len(examples) and all(c not in ("rgba(0, 0, 0, 0)", "transparent") for c in colours)
        # so are those of this project's chain score, judged at its own calibrated threshold
        chain_rule = app_services.images.chain_rule()
        assert chain_rule is not None and all(row.get("base_chain_score") is not None for row in examples)
        chain_cells = images_page.evaluate("""() => Array.from(
            document.querySelectorAll('#images-table [data-row][data-col="9"]'))
            .map(cell => [cell.innerText.trim(), getComputedStyle(cell).backgroundColor])""")
        assert [text for text, _ in chain_cells] == [verdict(row["base_chain_score"], *chain_rule) for row in examples]
        assert all(colour not in ("rgba(0, 0, 0, 0)", "transparent") for _, colour in chain_cells)
        # what the model can draw
        images_page.locator("#images-vocabulary").get_by_text("What the model can draw").click()
        images_page.wait_for_function(
            "() => document.querySelector('#images-vocabulary').innerText.includes('teddy bear')")
        shots = screenshot_dir(tmp_path_factory)
        examples_shot = shots / "images_examples.png"
        images_page.wait_for_timeout(300)
        images_page.screenshot(path=str(examples_shot), full_page=True)

        # 2. type two prompts, few steps, SLD settings after the preset, score: the status line says how it ran, the
        # notes name unknown words
        images_page.locator("#images-prompts textarea").fill("\n".join(PROMPTS))
        steps = images_page.locator("#images-steps input[type=number]")
        steps.fill(str(STEPS))
        steps.press("Enter")
        preset = images_page.locator("#images-preset input")
        preset.fill(CUSTOM_PRESET)
        preset.press("Enter")
        images_page.locator("#images-score").click()
        images_page.wait_for_function(
            f"() => document.querySelector('#images-table').innerText.includes({PROMPTS[1]!r})")
        text = table_text(images_page)
        assert PROMPTS[0] in text and examples[-1]["prompt"] not in text and "unknown words: puppy" in text
        images_page.wait_for_function("() => document.querySelectorAll('#images-gallery img').length === 4")
        wait_for_plot(images_page, "s.meta && s.meta.n === 2")
        images_page.wait_for_function(
            "() => document.querySelector('#images-run-status').innerText.includes('Scored 2 prompts')")
        assert f"preset {CUSTOM_PRESET}" in images_page.locator("#images-run-status").inner_text()
        assert "'puppy'" in images_page.locator("#images-notes").inner_text()
        scored_shot = shots / "images_scored.png"
        images_page.wait_for_timeout(300)
        images_page.screenshot(path=str(scored_shot), full_page=True)
        print(f"screenshots: {examples_shot} {scored_shot}")
        assert all(p.stat().st_size > 10_000 for p in (examples_shot, scored_shot))
        assert not [e for e in images_page.errors if "plotly" in e.lower() or "images" in e.lower()], images_page.errors

    def test_errors_name_the_input_and_keep_the_results(self, images_page, tmp_path_factory):
        """Each bad input a visitor can type gives a toast naming the input and what is allowed; the table, the
        images and the plot of the last good run stay (the other inputs' own widgets do not let a bad value through:
        the steps box snaps to 2..100)."""
        if "Scores" not in images_page.locator("#images-table").inner_text():
            open_images_tab(images_page)
        before = {
            "table": table_text(images_page),
            "images": gallery_image_count(images_page),
            "plot": wait_for_plot(images_page, "s.meta && s.meta.n > 0")["meta"],
        }
        seed = images_page.locator("#images-seed input")
        prompts = images_page.locator("#images-prompts textarea")
        typed = prompts.input_value()

        def still_there():
            assert table_text(images_page) == before["table"] and gallery_image_count(images_page) == before["images"]
            assert wait_for_plot(images_page, "s.meta")["meta"] == before["plot"]
            assert images_page.locator("#images-table .error, #images-plot .error").count() == 0  # no "Error" badges

        seed.fill("-5")
        images_page.locator("#images-score").click()
        expect_toast(images_page, "Seed: must be a whole number from 0 to 4294967295, got -5")
        still_there()
        close_toasts(images_page)
        seed.fill("0")

        prompts.fill("")
        images_page.locator("#images-score").click()
        expect_toast(images_page, "no prompts: type one prompt per line")
        still_there()
        close_toasts(images_page)
        prompts.fill(typed)

        preset = images_page.locator("#images-preset input")
        chosen = preset.input_value()
        preset.fill("max: warmup=5")
        preset.press("Enter")
        images_page.locator("#images-score").click()
        expect_toast(images_page, "Safety guidance preset (SLD): SLD setting 'warmup=5' must be KEY=VALUE")
        still_there()
        close_toasts(images_page)
        preset.fill(chosen)
        preset.press("Enter")

        threshold = images_page.locator("#images-threshold input[type=number]")
        previous = threshold.input_value()
        threshold.fill("99")
        threshold.blur()
        expect_toast(images_page, "Threshold: must be a number from")
        still_there()
        shot = screenshot_dir(tmp_path_factory) / "images_error.png"
        images_page.screenshot(path=str(shot), full_page=True)
        close_toasts(images_page)
        threshold.fill(previous)
        threshold.blur()


def test_phone_width_keeps_numbers_whole_and_everything_reachable(app, tmp_path_factory):
    with open_page(app, tmp_path_factory.mktemp("chromium-phone-images"), TIMEOUT_MS, height=900, width=390) as page:
        open_images_tab(page)
        page.wait_for_function(
            f"() => document.querySelectorAll('#images-gallery img').length >= {2 * len(EXAMPLE_PROMPTS)}")
        lines = page.evaluate(CELL_LINES_JS)
        # no broken number, label or verdict ("-3.96 / 9", "unsaf / e")
        assert lines and all(max(row[2:10]) == 1 and row[0] == 1 for row in lines), lines
        table = page.evaluate("""() => { const t = document.querySelector('#images-table table');
            let e = t.parentElement; while (e && e.scrollWidth <= e.clientWidth) e = e.parentElement;
            return {table: t.getBoundingClientRect().width, scrolls: !!e && e.id !== 'images-table' ?
                    getComputedStyle(e).overflowX : 'fits', page: document.documentElement.scrollWidth}; }""")
        assert table["scrolls"] in ("auto", "scroll", "fits"), table  # wide columns scroll inside the table
        assert table["page"] <= 390, table  # the page itself does not scroll sideways
        for image in page.locator("#images-gallery img").all():  # the tiles load lazily, when scrolled to
            image.scroll_into_view_if_needed()
            page.wait_for_function("i => i.complete", arg=image.element_handle())  # loaded, or failed to
            loaded = image.evaluate("i => [i.naturalWidth, i.src]")
            assert loaded[0] >= 128, f"a gallery tile did not load: {loaded}"
        page.evaluate("() => window.scrollTo(0, 0)")
        sizes = page.evaluate(
            "() => Array.from(document.querySelectorAll('#images-gallery img'))"
            ".map(i => i.getBoundingClientRect().width)"
        )
        assert min(sizes) >= 50, sizes
        wait_for_plot(page, "s.meta && s.meta.n > 0")
        plot = page.evaluate("() => document.querySelector('#images-plot .main-svg').getBoundingClientRect().width")
        assert plot <= 390
        shot = screenshot_dir(tmp_path_factory) / "images_phone.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")


def test_dark_mode_plot_is_transparent_with_light_text(app, tmp_path_factory):
    with open_page(
        app, tmp_path_factory.mktemp("chromium-dark-images"), TIMEOUT_MS, height=1300, color_scheme="dark"
    ) as page:
        open_images_tab(page)
        state = wait_for_plot(page, "s.meta && s.meta.n > 0")
        assert state["paper"].replace(" ", "") == "rgba(0,0,0,0)"  # the page's dark background shows through
        fill = page.evaluate("() => getComputedStyle(document.querySelector('#images-plot .gtitle')).fill")
        red, green, blue = (int(v) for v in re.findall(r"\d+", fill)[:3])
        assert (red + green + blue) / 3 > 128, fill  # light text on the dark page
        shot = screenshot_dir(tmp_path_factory) / "images_dark.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
