"""The Locomotion tab in a real headless Chromium (Playwright's sync API, Debian's /usr/bin/chromium): switch to
the tab, see the precomputed example (both videos decode as h264 in the browser, both plots draw their two
planners), then run a short base + steered episode and see new videos and the summary of the fresh run; start a long one,
see its progress in environment steps, and cancel it.

Screenshots go to $REWARD_DEMO_SCREENSHOT_DIR if set, else to the test's tmp folder (the path is printed).
"""
import json
import re

import pytest
from browser_support import BROWSER_MARKS, open_page, screenshot_dir, wait_for_state

TIMEOUT_MS = 60_000

pytestmark = BROWSER_MARKS

VIDEO_STATE_JS = """(id) => {
  const v = document.querySelector(`#${id} video`);
  if (!v) return null;
  return {src: v.currentSrc || v.src || '', ready: v.readyState, width: v.videoWidth, height: v.videoHeight,
          error: v.error ? v.error.code : null, duration: v.duration};
}"""

PLOT_STATE_JS = """(id) => {
  const gd = document.querySelector(`#${id} .js-plotly-plot`);
  if (!gd || !gd.data || !gd._fullLayout) return null;
  return {names: gd.data.map(t => t.name || ''), points: gd.data.map(t => (t.y || []).length),
          lines: gd.querySelectorAll('.scatterlayer .trace path.js-line').length,
          title: (gd.layout.title && gd.layout.title.text) || ''};
}"""


@pytest.fixture(scope="module")
def env():
    """The page's default env (the first trained env with a shipped example)."""
    from reward_demo.ui import locomotion_tab as tab

    trained = tab.trained_envs()
    if not trained:
        pytest.skip("no locomotion env has trained checkpoints (train with "
                    "`python -m reward_demo locomotion train-planners --env hopper`)")
    env = tab.default_env()
    assert env in tab.load_examples(), ("trained envs but no precomputed example: run "
                                        "`python -m reward_demo.ui.locomotion_examples`")
    return env


@pytest.fixture(scope="module")
def page(env, request, tmp_path_factory):
    app_url = request.getfixturevalue("app_url")  # after the env check: no server when nothing is trained
    profile = tmp_path_factory.mktemp("chromium-profile-locomotion")
    with open_page(app_url, profile, TIMEOUT_MS, height=1300) as page:
        yield page


def wait_for_video(page, elem_id: str, not_src: str = "") -> dict:
    """Wait until the video of ``elem_id`` has decoded its first frame (h264 played by the browser itself)."""
    state = wait_for_state(page, VIDEO_STATE_JS, f"s.src && s.src !== {json.dumps(not_src)} && "
                           "(s.ready >= 2 || s.error !== null)", TIMEOUT_MS, elem_id)
    assert state["error"] is None, f"the browser could not play {state['src']}: MediaError {state['error']}"
    return state


def wait_for_plot(page, elem_id: str, predicate_js: str) -> dict:
    return wait_for_state(page, PLOT_STATE_JS, predicate_js, TIMEOUT_MS, elem_id)


def test_locomotion_tab_example_and_run(page, env, tmp_path_factory, rollout_steps_seen):
    from reward_demo.locomotion.render import DEFAULT_HEIGHT, DEFAULT_WIDTH
    from reward_demo.ui.locomotion_tab import GYM_IDS, LABELS

    page.get_by_role("tab", name=re.compile("Locomotion")).click()
    # 1. the precomputed example, shown on page load
    videos = {}
    for planner in ("base", "steered"):
        videos[planner] = wait_for_video(page, f"loco-video-{planner}")
        assert (videos[planner]["width"], videos[planner]["height"]) == (DEFAULT_WIDTH, DEFAULT_HEIGHT)
        assert videos[planner]["duration"] > 0
    assert videos["base"]["src"] != videos["steered"]["src"]
    both = f"s.names.includes('{LABELS['base']}') && s.names.includes('{LABELS['steered']}')"
    returns = wait_for_plot(page, "loco-returns", both + " && s.lines >= 2")
    assert GYM_IDS[env] in returns["title"] and min(returns["points"]) > 0
    wait_for_plot(page, "loco-reward", both + " && s.lines >= 2")
    page.wait_for_function("() => document.querySelector('#loco-summary').innerText.includes('steered_minus_base')")
    assert "true" in page.locator("#loco-summary").inner_text()  # "example": true
    shots = screenshot_dir(tmp_path_factory)
    first = shots / f"locomotion_{env}_example.png"
    page.wait_for_timeout(500)
    page.screenshot(path=str(first), full_page=True)

    # 2. a short fresh run: new videos, plots and summary
    steps = page.locator("#loco-steps input[type=number]")
    steps.fill("10")
    steps.press("Enter")
    page.locator("#loco-run").click()
    page.wait_for_function("() => document.querySelector('#loco-summary').innerText.includes('planning')",
                           timeout=TIMEOUT_MS * 2)
    for planner in ("base", "steered"):
        fresh = wait_for_video(page, f"loco-video-{planner}", not_src=videos[planner]["src"])
        assert fresh["width"] == DEFAULT_WIDTH
    returns = wait_for_plot(page, "loco-returns", both + " && Math.max(...s.points) <= 10")
    assert max(returns["points"]) <= 10
    second = shots / f"locomotion_{env}_run.png"
    page.wait_for_timeout(500)
    page.screenshot(path=str(second), full_page=True)
    # 3. a long run shows its progress (environment steps) and the Cancel button stops it (the server's loop too:
    #    the app runs in this process, so its rollout can be watched)
    steps_seen = rollout_steps_seen
    steps_seen.clear()
    steps.fill("300")
    steps.press("Enter")
    page.locator("#loco-run").click()
    page.wait_for_function("() => { const e = document.querySelector('#loco-summary .progress-level'); "
                           "return e && /environment step/.test(e.innerText); }", timeout=TIMEOUT_MS)
    page.wait_for_function("() => { const e = document.querySelector('#loco-summary .progress-text'); "
                           "return e && /[1-9]\\d*\\/300 steps/.test(e.innerText); }", timeout=TIMEOUT_MS)
    page.locator("#loco-cancel").click()
    page.wait_for_function("() => !document.querySelector('#loco-summary .progress-text')", timeout=20_000)
    assert "planning" in page.locator("#loco-summary").inner_text()  # the last finished run stays shown
    # the step in flight when Cancel arrived may still finish (the loop checks before each step), then nothing
    page.wait_for_timeout(1000)
    seen_after_cancel = len(steps_seen)
    page.wait_for_timeout(2000)
    stopped_at = len(steps_seen)
    page.wait_for_timeout(2000)
    assert 0 < stopped_at < 300 and stopped_at - seen_after_cancel <= 1, (seen_after_cancel, stopped_at)
    assert len(steps_seen) == stopped_at, (stopped_at, len(steps_seen))
    print(f"screenshots: {first} {second}")
    assert all(p.stat().st_size > 10_000 for p in (first, second))
    assert not [e for e in page.errors if "plotly" in e.lower() or "video" in e.lower()], page.errors
