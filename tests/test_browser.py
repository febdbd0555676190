"""The app in a real headless Chromium (Playwright's sync API, Debian's /usr/bin/chromium): pick a maze and
a goal, and check that the plotly heatmap renders with the new goal, by typing and by clicking on the plot.

Screenshots go to $REWARD_DEMO_SCREENSHOT_DIR if set, else to the test's tmp folder (the path is printed).
"""
import re

import pytest
from browser_support import BROWSER_MARKS, open_page, screenshot_dir, wait_for_state
from conftest import maze_models_present

TIMEOUT_MS = 45_000

pytestmark = BROWSER_MARKS

PLOT_STATE_JS = """() => {
  const gd = document.querySelector('#maze-plot .js-plotly-plot');
  if (!gd || !gd.data || !gd._fullLayout) return null;
  return {traces: gd.data.map(t => [t.type, t.name || '']), meta: gd.layout.meta,
          title: (gd.layout.title && gd.layout.title.text) || '',
          heatmapImages: gd.querySelectorAll('.heatmaplayer image').length,
          colorbars: gd.querySelectorAll('.colorbar').length,
          stars: gd.querySelectorAll('path.point').length};
}"""

CELL_PIXEL_JS = """([row, col]) => {
  const gd = document.querySelector('#maze-plot .js-plotly-plot');
  const meta = gd.layout.meta, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const x = col - (meta.width - 1) / 2, y = (meta.height - 1) / 2 - row;
  const box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
}"""


def pick_maze() -> str:
    """medium if its models are there, else another maze that has models (not the page's default)."""
    from reward_demo.ui.maze_tab import default_maze

    candidates = [m for m in ("medium", "large", "umaze") if maze_models_present(m)]
    if not candidates:
        pytest.skip("no maze has trained models (train with `python -m reward_demo maze train --maze umaze`)")
    others = [m for m in candidates if m != default_maze()]
    return (others or candidates)[0]


@pytest.fixture(scope="module")
def maze():
    return pick_maze()


@pytest.fixture(scope="module")
def page(maze, request, tmp_path_factory):
    app_url = request.getfixturevalue("app_url")  # after pick_maze: no server when there are no models
    profile = tmp_path_factory.mktemp("chromium-profile")
    with open_page(app_url, profile, TIMEOUT_MS, height=1200) as page:
        yield page


def wait_for_plot(page, predicate_js: str):
    """Wait until the plot state satisfies ``predicate_js`` (a JS expression over ``s``); return the state."""
    return wait_for_state(page, PLOT_STATE_JS, predicate_js, TIMEOUT_MS)


def summary_text(page) -> str:
    return page.locator("#maze-summary").inner_text()


def test_heatmap_renders_and_goal_can_be_picked(page, maze, tmp_path_factory):
    from reward_demo.maze.layouts import get_layout

    layout = get_layout(maze)
    # 1. the page-load heatmap
    state = wait_for_plot(page, "s.traces.some(t => t[0] === 'heatmap') && s.heatmapImages > 0")
    assert ["heatmap", "reward"] in state["traces"] and ["heatmap", "walls"] in state["traces"]
    assert ["scatter", "goal"] in state["traces"]

    # 2. choose the maze in the dropdown
    page.locator("#maze-name input").click()
    page.get_by_role("option", name=re.compile(rf"^{maze}")).click()
    state = wait_for_plot(page, f"s.meta && s.meta.maze === '{maze}'")
    assert state["meta"] == {"maze": maze, "height": layout.height, "width": layout.width}
    page.wait_for_function(f"() => document.querySelector('#maze-summary').innerText.includes('{maze}')")

    # 3. type a goal (a free cell other than the maze's default) and compute
    default = layout.d4rl_goal_cell
    free = [c for c in layout.free_cells() if c != default]
    goal = free[len(free) // 2]
    page.locator("#maze-goal-row input").fill(str(goal[0]))
    page.locator("#maze-goal-col input").fill(str(goal[1]))
    page.locator("#maze-compute").click()
    state = wait_for_plot(page, f"s.title.includes('goal row {goal[0]}, col {goal[1]}')")
    assert state["heatmapImages"] >= 1 and state["colorbars"] >= 1 and state["stars"] >= 2
    page.wait_for_function(f"() => document.querySelector('#maze-summary').innerText.includes('{maze}')")
    text = summary_text(page)
    assert "argmax_cell" in text and "hit" in text
    shots = screenshot_dir(tmp_path_factory)
    first = shots / f"maze_{maze}_goal_{goal[0]}_{goal[1]}.png"
    page.locator("#maze-plot").screenshot(path=str(first))

    # 4. click another free cell on the plot: it becomes the goal
    target = free[0] if free[0] != goal else free[-1]
    x, y = page.evaluate(CELL_PIXEL_JS, list(target))
    page.mouse.move(x, y)
    page.wait_for_timeout(150)
    page.mouse.click(x, y)
    state = wait_for_plot(page, f"s.title.includes('goal row {target[0]}, col {target[1]}')")
    assert page.locator("#maze-goal-row input").input_value() == str(target[0])
    assert page.locator("#maze-goal-col input").input_value() == str(target[1])
    second = shots / f"maze_{maze}_clicked_goal_{target[0]}_{target[1]}.png"
    page.wait_for_timeout(300)  # let the plot finish drawing before the screenshot
    page.locator("#maze-plot").screenshot(path=str(second))

    # 5. sample trajectories (default samplers: expert and steered) and draw them on the heatmap
    page.locator("#maze-sample").click()
    state = wait_for_plot(page, "s.traces.some(t => t[1].startsWith('expert')) && s.traces.some(t => t[1].startsWith('steered'))")
    assert f"goal row {target[0]}, col {target[1]}" in state["title"]
    # 6. downloads: PNG and CSV of what is shown
    page.locator("#maze-downloads").get_by_text("Downloads: heatmap PNG and values CSV").click()
    page.locator("#maze-export").click()
    page.wait_for_function("() => /\\.png/.test(document.querySelector('#maze-png').innerText) && "
                           "/\\.csv/.test(document.querySelector('#maze-csv').innerText)")
    page.wait_for_timeout(300)
    third = shots / f"maze_{maze}_trajectories_page.png"
    page.screenshot(path=str(third), full_page=True)
    print(f"screenshots: {first} {second} {third}")
    assert all(p.stat().st_size > 10_000 for p in (first, second, third))
    assert not [e for e in page.errors if "plotly" in e.lower() or "maze" in e.lower()], page.errors
