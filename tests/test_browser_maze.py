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


def pick_maze(service) -> str:
    """medium if its models are there, else another maze that has models (not the page's default: ``service``'s)."""
    candidates = [m for m in ("medium", "large", "umaze") if maze_models_present(m)]
    if not candidates:
        pytest.skip("no maze has trained models (train with `python -m reward_demo maze train --maze umaze`)")
    others = [m for m in candidates if m != service.default_maze()]
    return (others or candidates)[0]


@pytest.fixture(scope="module")
def maze(app_services):
    return pick_maze(app_services.maze)


@pytest.fixture(scope="module")
def maze_page(maze, request, tmp_path_factory):
    app_url = request.getfixturevalue("app_url")  # after pick_maze: no server when there are no models
    profile = tmp_path_factory.mktemp("chromium-profile")
    with open_page(app_url, profile, TIMEOUT_MS, height=1200) as page:
        yield page


def wait_for_plot(page, predicate_js: str):
    """Wait until the plot state satisfies ``predicate_js`` (a JS expression over ``s``); return the state."""
    return wait_for_state(page, PLOT_STATE_JS, predicate_js, TIMEOUT_MS)


def summary_text(page) -> str:
    return page.locator("#maze-summary").inner_text()


def test_heatmap_renders_and_goal_can_be_picked(maze_page, maze, tmp_path_factory):
    from reward_demo.maze.layouts import get_layout

    layout = get_layout(maze)
    # 1. the page-load heatmap
    state = wait_for_plot(maze_page, "s.traces.some(t => t[0] === 'heatmap') && s.heatmapImages > 0")
    assert ["heatmap", "reward"] in state["traces"] and ["heatmap", "walls"] in state["traces"]
    assert ["scatter", "goal"] in state["traces"]

    # 2. choose the maze in the dropdown
    maze_page.locator("#maze-name input").click()
    maze_page.get_by_role("option", name=re.compile(rf"^{maze}")).click()
    state = wait_for_plot(maze_page, f"s.meta && s.meta.maze === '{maze}'")
    assert state["meta"] == {"maze": maze, "height": layout.height, "width": layout.width}
    maze_page.wait_for_function(f"() => document.querySelector('#maze-summary').innerText.includes('{maze}')")

    # 3. type a goal (a free cell other than the maze's default) and compute
    default = layout.d4rl_goal_cell
    free = [c for c in layout.free_cells() if c != default]
    goal = free[len(free) // 2]
    maze_page.locator("#maze-goal-row input").fill(str(goal[0]))
    maze_page.locator("#maze-goal-col input").fill(str(goal[1]))
    maze_page.locator("#maze-compute").click()
    state = wait_for_plot(maze_page, f"s.title.includes('goal row {goal[0]}, col {goal[1]}')")
    assert state["heatmapImages"] >= 1 and state["colorbars"] >= 1 and state["stars"] >= 2
    maze_page.wait_for_function(f"() => document.querySelector('#maze-summary').innerText.includes('{maze}')")
    text = summary_text(maze_page)
    assert "argmax_cell" in text and "hit" in text
    shots = screenshot_dir(tmp_path_factory)
    first = shots / f"maze_{maze}_goal_{goal[0]}_{goal[1]}.png"
    maze_page.locator("#maze-plot").screenshot(path=str(first))

    # 4. click another free cell on the plot: it becomes the goal
    target = free[0] if free[0] != goal else free[-1]
    x, y = maze_page.evaluate(CELL_PIXEL_JS, list(target))
    maze_page.mouse.move(x, y)
    maze_page.wait_for_timeout(150)
    maze_page.mouse.click(x, y)
    state = wait_for_plot(maze_page, f"s.title.includes('goal row {target[0]}, col {target[1]}')")
    assert maze_page.locator("#maze-goal-row input").input_value() == str(target[0])
    assert maze_page.locator("#maze-goal-col input").input_value() == str(target[1])
    second = shots / f"maze_{maze}_clicked_goal_{target[0]}_{target[1]}.png"
    maze_page.wait_for_timeout(300)  # let the plot finish drawing before the screenshot
    maze_page.locator("#maze-plot").screenshot(path=str(second))

    # 5. sample trajectories (default samplers: expert and steered) and draw them on the heatmap
    maze_page.locator("#maze-sample").click()
    state = wait_for_plot(maze_page, "s.traces.some(t => t[1].startsWith('expert')) && "
                                     "s.traces.some(t => t[1].startsWith('steered'))")
    assert f"goal row {target[0]}, col {target[1]}" in state["title"]
    # 6. downloads: PNG and CSV of what is shown
    maze_page.locator("#maze-downloads").get_by_text("Downloads: heatmap PNG and values CSV").click()
    maze_page.locator("#maze-export").click()
    maze_page.wait_for_function("() => /\\.png/.test(document.querySelector('#maze-png').innerText) && "
                                "/\\.csv/.test(document.querySelector('#maze-csv').innerText)")
    maze_page.wait_for_timeout(300)
    third = shots / f"maze_{maze}_trajectories_page.png"
    maze_page.screenshot(path=str(third), full_page=True)
    print(f"screenshots: {first} {second} {third}")
    assert all(p.stat().st_size > 10_000 for p in (first, second, third))
    assert not [e for e in maze_page.errors if "plotly" in e.lower() or "maze" in e.lower()], maze_page.errors


# ------------------------------------------------------------------ issue 25: what a visitor sees on bad input
TOASTS_JS = "() => Array.from(document.querySelectorAll('.toast-body')).map(e => e.innerText)"
BADGES_JS = """() => ['#maze-plot', '#maze-summary'].map(id => document.querySelector(id))
  .filter(el => el && el.querySelector('.error')).map(el => el.id)"""


def close_toasts(page):
    page.evaluate("() => document.querySelectorAll('.toast-close').forEach(b => b.click())")
    page.wait_for_function("() => !document.querySelector('.toast-body')")


def expect_toast(page, text: str) -> str:
    """Wait for a message toast containing ``text``; return it and close every toast."""
    page.wait_for_function(f"() => ({TOASTS_JS})().some(t => t.includes({text!r}))")
    message = next(t for t in page.evaluate(TOASTS_JS) if text in t)
    close_toasts(page)
    return message


def plot_title(page) -> str:
    return wait_for_plot(page, "s.heatmapImages > 0")["title"]


def type_goal(page, row, col):
    page.locator("#maze-goal-row input").fill(str(row))
    page.locator("#maze-goal-col input").fill(str(col))
    page.locator("#maze-goal-col input").press("Enter")


def type_t(page, value):
    box = page.locator("#maze-t input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def result_text(page) -> str:
    """The result without its timing (a recomputed, cached heatmap gives the same result, faster)."""
    return re.sub(r'"compute_seconds"\s*:\s*[0-9.e-]+', "", summary_text(page))


def assert_last_plot_kept(page, title: str, summary: str):
    """The plot and the result still show the last good heatmap, and no "Error" badge covers them."""
    page.wait_for_timeout(300)  # a late re-render would show here
    assert plot_title(page) == title
    assert result_text(page) == summary
    assert page.evaluate(BADGES_JS) == []


def test_bad_inputs_toast_their_message_and_keep_the_plot(maze_page, maze):
    from reward_demo.maze.layouts import get_layout

    close_toasts(maze_page)
    current = wait_for_plot(maze_page, "s.heatmapImages > 0")["meta"]["maze"]
    layout = get_layout(current)
    free = layout.free_cells()
    wall = next((r, c) for r in range(layout.height) for c in range(layout.width) if not layout.is_free(r, c))
    inner_wall = next((r, c) for r in range(1, layout.height - 1) for c in range(1, layout.width - 1)
                      if not layout.is_free(r, c))
    goal = free[1]
    type_goal(maze_page, *goal)
    title = wait_for_plot(maze_page, f"s.title.includes('goal row {goal[0]}, col {goal[1]} ')")["title"]
    maze_page.wait_for_function("() => document.querySelector('#maze-summary').innerText.includes('argmax_cell')")
    summary = result_text(maze_page)
    # the free-cell list follows a typed goal
    maze_page.wait_for_function(f"() => document.querySelector('#maze-goal-cell input').value === "
                                f"'row {goal[0]}, col {goal[1]}'")

    # 1. a goal on a wall, typed + Enter
    type_goal(maze_page, *wall)
    message = expect_toast(maze_page, "is a wall")
    assert f"Goal row {wall[0]}, Goal column {wall[1]}" in message and str(free[0]) in message
    assert_last_plot_kept(maze_page, title, summary)
    type_goal(maze_page, *goal)
    maze_page.wait_for_function("() => !document.querySelector('#maze-status .error')")

    # 2. t = 99 and t = -3 typed + Enter: the message names the input and its range
    t_max = int(maze_page.locator("#maze-t input[type=range]").get_attribute("max"))
    for bad in (99, -3):
        type_t(maze_page, bad)
        message = expect_toast(maze_page, "Diffusion step t must be a whole number")
        assert f"from 0 to {t_max}" in message and str(bad) in message
        assert_last_plot_kept(maze_page, title, summary)

    # 3. a typed t recomputes (typed + Enter did nothing before)
    type_t(maze_page, 1)
    title = wait_for_plot(maze_page, "s.title.includes('t=1 ')")["title"]
    maze_page.wait_for_function(r"""() => /"t"\s*:\s*1\b/.test(document.querySelector('#maze-summary').innerText)""")
    summary = result_text(maze_page)

    # 4. the free-cell list opened and left without a choice: nothing happens (it blanked the tab)
    maze_page.locator("#maze-goal-cell input").click()
    maze_page.get_by_role("option").first.wait_for()
    maze_page.locator("#maze-status").click()
    maze_page.wait_for_timeout(800)
    assert maze_page.evaluate(TOASTS_JS) == []
    assert_last_plot_kept(maze_page, title, summary)

    # 5. a click on a wall of the plot: a message says it is a wall and names the free cells
    x, y = maze_page.evaluate(CELL_PIXEL_JS, list(inner_wall))
    maze_page.mouse.move(x, y)
    maze_page.wait_for_timeout(150)
    maze_page.mouse.click(x, y)
    message = expect_toast(maze_page, "is a wall")
    assert f"cell ({inner_wall[0]}, {inner_wall[1]})" in message and str(free[0]) in message
    assert_last_plot_kept(maze_page, title, summary)

    # 6. a click on a free cell: the goal, and the free-cell list follows it (it went stale)
    target = free[-1]
    x, y = maze_page.evaluate(CELL_PIXEL_JS, list(target))
    maze_page.mouse.move(x, y)
    maze_page.wait_for_timeout(150)
    maze_page.mouse.click(x, y)
    wait_for_plot(maze_page, f"s.title.includes('goal row {target[0]}, col {target[1]} ')")
    maze_page.wait_for_function(f"() => document.querySelector('#maze-goal-cell input').value === "
                                f"'row {target[0]}, col {target[1]}'")
    assert maze_page.evaluate(TOASTS_JS) == []


def test_steering_scale_follows_the_maze(maze_page):
    from reward_demo.maze.models import RECOMMENDED_SETTINGS

    mazes = [m for m in ("large", "umaze") if maze_models_present(m)]
    if len(mazes) < 2:
        pytest.skip("needs the large and umaze models")
    for name in mazes:
        maze_page.locator("#maze-name input").click()
        maze_page.get_by_role("option", name=re.compile(rf"^{name}")).click()
        wait_for_plot(maze_page, f"s.meta && s.meta.maze === '{name}'")
        maze_page.wait_for_function(f"() => Number(document.querySelector('#maze-scale input[type=number]').value) === "
                                    f"{RECOMMENDED_SETTINGS[name]['scale']}")
        d4rl = maze_page.evaluate("() => document.querySelector('#maze-goal-cell input').value")
        assert d4rl.startswith("row ")  # the maze's goal cell, shown in the free-cell list


def test_phone_width_and_dark_mode(maze_page, tmp_path_factory):
    """At 390 px the controls stack above the plot, nothing is cut off or wider than the screen, and labels
    read across (not letter by letter); in dark mode the figure's background lets the page's colour through."""
    shots = screenshot_dir(tmp_path_factory)
    try:
        maze_page.set_viewport_size({"width": 390, "height": 844})
        maze_page.emulate_media(color_scheme="dark")
        maze_page.wait_for_timeout(800)
        wait_for_plot(maze_page, "s.heatmapImages > 0")
        sizes = maze_page.evaluate("""() => {
          const box = sel => document.querySelector(sel).getBoundingClientRect();
          const labels = Array.from(document.querySelectorAll('#maze-name, #maze-goal-row, #maze-goal-col, '
            + '#maze-goal-cell, #maze-t, #maze-view, #maze-scale, #maze-n, #maze-seed'))
            .map(el => { const r = el.getBoundingClientRect(); return [el.id, r.width, r.left, r.right]; });
          const gd = document.querySelector('#maze-plot .js-plotly-plot');
          return {page: document.documentElement.scrollWidth, plot: box('#maze-plot'), compute: box('#maze-compute'),
                  labels, paper: gd.layout.paper_bgcolor, area: gd._fullLayout.xaxis._length};
        }""")
        assert sizes["page"] <= 390, sizes
        assert sizes["plot"]["left"] >= 0 and sizes["plot"]["right"] <= 390 and sizes["plot"]["width"] >= 300, sizes
        assert sizes["compute"]["bottom"] <= sizes["plot"]["top"]  # controls stacked above the plot
        for name, width, left, right in sizes["labels"]:
            assert width >= 60 and left >= 0 and right <= 390, (name, width, left, right)
        assert sizes["area"] >= 150, sizes  # the maze itself, not squeezed by the colour bar
        assert sizes["paper"].replace(" ", "") == "rgba(0,0,0,0)"
        maze_page.locator("#maze-plot").scroll_into_view_if_needed()
        maze_page.screenshot(path=str(shots / "maze_phone_390_dark.png"), full_page=True)
    finally:
        maze_page.emulate_media(color_scheme="light")
        maze_page.set_viewport_size({"width": 1400, "height": 1200})
