"""The page as a whole in a real headless Chromium: at a phone's width every tab is reachable from the tab
bar (none folded into a menu), and in dark mode plot text is light on a transparent figure background."""
import re

import pytest
from browser_support import BROWSER_MARKS, open_page, screenshot_dir
from conftest import maze_models_present

TIMEOUT_MS = 45_000

pytestmark = BROWSER_MARKS

TAB_LABELS = ("Maze", "Locomotion", "Images")

#: the maze heatmap's figure: its paper background and the colour of its title and tick labels
PLOT_COLOURS_JS = """() => {
  const gd = document.querySelector('#maze-plot .js-plotly-plot');
  if (!gd || !gd._fullLayout) return null;
  const title = gd.querySelector('.gtitle'), tick = gd.querySelector('.xtick text');
  if (!title || !tick) return null;
  return {paper: gd._fullLayout.paper_bgcolor, title: getComputedStyle(title).fill, tick: getComputedStyle(tick).fill,
          page: getComputedStyle(document.body).backgroundColor};
}"""


def luminance(css_colour: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return screenshot_dir(tmp_path_factory)


def test_phone_width_shows_every_tab(app_url, tmp_path, shots):
    with open_page(app_url, tmp_path / "profile", TIMEOUT_MS, height=900, width=390) as page:
        for label in TAB_LABELS:
            tab = page.get_by_role("tab", name=re.compile(rf"^{label}"))
            tab.wait_for(state="visible")
            box = tab.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"tab {label} is outside the screen"
        for label in TAB_LABELS[1:]:
            page.get_by_role("tab", name=re.compile(rf"^{label}")).click()
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / f"app_phone_{label.lower()}.png"), full_page=True)
        assert not page.errors


def test_dark_mode_plots_read_light_on_the_page_background(app_url, tmp_path, shots):
    if not maze_models_present("umaze"):
        pytest.skip("no umaze models")
    with open_page(app_url, tmp_path / "profile", TIMEOUT_MS, color_scheme="dark") as page:
        page.wait_for_function(f"() => ({PLOT_COLOURS_JS})() !== null", timeout=TIMEOUT_MS)
        colours = page.evaluate(PLOT_COLOURS_JS)
        page.screenshot(path=str(shots / "app_dark_maze.png"), full_page=True)
        assert luminance(colours["page"]) < 0.3, f"the page is not in dark mode: {colours}"
        assert colours["paper"] in ("rgba(0, 0, 0, 0)", "rgba(0,0,0,0)", "transparent"), colours
        assert luminance(colours["title"]) > 0.6 and luminance(colours["tick"]) > 0.6, colours
        assert not page.errors
