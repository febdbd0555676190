"""The Locomotion tab: off-screen MuJoCo videos (valid h264 mp4s of the expected size and length), the figures,
every locomotion endpoint through gradio_client on the shipped checkpoints (a 20-step base + steered run; its first
streamed result, cheap actions while it runs, Cancel's message), clear errors for bad input naming the input and
what is allowed, missing checkpoints and cancellation. The domain code's own tests: ``test_locomotion_demo.py``.

Endpoint tests for an env are skipped only when that env's checkpoints are absent (the reason says how to train).
"""
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import json  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("mujoco")
pytest.importorskip("imageio_ffmpeg")

from locomotion_support import (  # noqa: E402
    check_video,
    first_trained_env,
    probe,
    skip_without_models,
    unload_functions,
)
from reward_demo.locomotion import demo, demo_results, render  # noqa: E402
from reward_demo.ui import locomotion_plots as plots  # noqa: E402

ENDPOINTS = {"/locomotion_run", "/locomotion_example", "/locomotion_select_env", "/locomotion_select_reward"}
RUN_STEPS = 20


# ------------------------------------------------------------------ rendering (no trained models needed)
@pytest.mark.parametrize("env", ["hopper", "halfcheetah", "walker2d"])
def test_render_random_episode_is_valid_h264(env, tmp_path):
    qpos, qvel = render.random_episode(env, 40, seed=1)
    assert qpos.shape[0] == 41
    result = render.render_episode(env, qpos, qvel, tmp_path / f"{env}.mp4")
    skip = render.VIEWS[env].frame_skip
    expected = render.frame_count(41, skip)
    assert result.frames == expected == len(range(0, 41, skip))
    info = check_video(result.path, expected)
    assert abs(info["fps"] - render.video_fps(env)) < 0.5
    frames = np.stack(info["frames"]).astype(np.float32)
    assert frames.std() > 20  # a picture, not a blank frame
    # the robot moves: the frames differ, the first and last most of all
    assert np.abs(frames[-1] - frames[0]).mean() > 1.0


def robot_pixels(frame) -> np.ndarray:
    """(row, col) of the robot's pixels: its geoms are brown (r > b), floor and background are grey or black."""
    rgb = frame.astype(int)
    return np.argwhere(rgb[..., 0] - rgb[..., 2] > 60)


def test_render_follows_the_torso():
    """The camera tracks x: the robot 25 m down the track is drawn at the same place as at the origin."""
    qpos, _ = render.random_episode("halfcheetah", 1, seed=0)
    far = qpos.copy()
    far[:, 0] += 25.0
    near = robot_pixels(next(render.render_frames("halfcheetah", qpos[:1])))
    away = robot_pixels(next(render.render_frames("halfcheetah", far[:1])))
    assert len(near) > 200 and abs(len(near) - len(away)) < 0.05 * len(near)
    assert np.abs(near.mean(0) - away.mean(0)).max() < 2.0
    # and roughly in the middle of the picture
    assert abs(near.mean(0)[1] - render.DEFAULT_WIDTH / 2) < render.DEFAULT_WIDTH / 4


def test_render_rejects_bad_input(tmp_path):
    qpos, qvel = render.random_episode("hopper", 3)
    with pytest.raises(ValueError, match="even"):
        render.render_episode("hopper", qpos, qvel, tmp_path / "odd.mp4", width=321)
    with pytest.raises(ValueError, match="qpos must have shape"):
        render.render_episode("hopper", qpos[:, :3], None, tmp_path / "bad.mp4")
    with pytest.raises(ValueError, match="unknown locomotion environment"):
        render.render_episode("ant", qpos, qvel, tmp_path / "ant.mp4")
    with pytest.raises(ValueError, match="no frames"):
        render.render_episode("hopper", qpos[:0], None, tmp_path / "empty.mp4")
    assert not (tmp_path / "empty.mp4").exists()


def test_render_in_threads(tmp_path):
    """Gradio runs handlers in worker threads: renders from several threads at once all work (and agree)."""
    qpos, qvel = render.random_episode("hopper", 12)
    results, errors = [], []

    def work(i):
        try:
            results.append(render.render_episode("hopper", qpos, qvel, tmp_path / f"t{i}.mp4"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [r.frames for r in results] == [4, 4]
    a, b = (np.stack(probe(r.path)["frames"]) for r in results)
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2  # same states, same pictures
    # the frames of a direct render_frames call (this thread's own GL context) are the same pictures
    direct = np.stack(list(render.render_frames("hopper", qpos, qvel)))
    assert direct.shape == a.shape and np.abs(direct.astype(int) - a.astype(int)).mean() < 8  # h264 (crf 28) vs raw


def test_render_progress_can_cancel(tmp_path):
    qpos, qvel = render.random_episode("halfcheetah", 30)
    seen = []

    def progress(frame, total):
        seen.append((frame, total))
        if frame == 5:
            raise KeyboardInterrupt("stop")  # any exception cancels

    with pytest.raises(KeyboardInterrupt):
        render.render_episode("halfcheetah", qpos, qvel, tmp_path / "c.mp4", progress=progress)
    assert seen[-1] == (5, 31) and not (tmp_path / "c.mp4").exists()


# ------------------------------------------------------------------ figures (no models needed)
def test_returns_figure_is_the_cumulative_return():
    curves = {"base": {"env_rewards": [1.0, 2.0, -0.5], "learned_rewards": [0.1, 0.2, 0.3], "fell": True},
              "steered": {"env_rewards": [1.0, 1.0, 1.0, 1.0], "learned_rewards": [0.4] * 4, "fell": False}}
    figure = plots.returns_figure(curves, "t")
    lines = {t["name"]: t for t in figure["data"] if t["mode"] == "lines"}
    assert lines[plots.LABELS["base"]]["y"] == [1.0, 3.0, 2.5] and lines[plots.LABELS["base"]]["x"] == [1, 2, 3]
    assert lines[plots.LABELS["steered"]]["y"] == [1.0, 2.0, 3.0, 4.0]
    falls = [t for t in figure["data"] if t["mode"] == "markers"]
    assert len(falls) == 1 and falls[0]["x"] == [3]  # only the base episode fell
    reward = plots.learned_reward_figure(curves, "t")
    assert [t["y"] for t in reward["data"]] == [[0.1, 0.2, 0.3], [0.4] * 4]
    json.dumps(figure, allow_nan=False)


def test_figures_are_transparent_and_titles_fit():
    curves = {"base": {"env_rewards": [1.0, 2.0], "learned_rewards": [0.1, None], "fell": False}}
    returns, reward = (json.loads(p.plot) for p in plots.figures("halfcheetah", curves, steps=50))
    for figure in (returns, reward):
        layout = figure["layout"]
        assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "rgba(0,0,0,0)"
        assert all(len(line) <= plots.TITLE_WIDTH for line in layout["title"]["text"].split("<br>"))
        assert layout["xaxis"]["range"] == [0, 50]  # a run in progress fills in the whole episode's axis
    assert reward["data"][0]["y"] == [0.1, None] and "annotations" not in reward["layout"]
    # a run's first steps, before any reward window is complete: the empty plot says why it is empty
    early = {p: {"env_rewards": [1.0, 2.0], "learned_rewards": [None, None], "fell": False} for p in plots.PLANNERS}
    note = json.loads(plots.figures("hopper", early, steps=300)[1].plot)["layout"]["annotations"][0]["text"]
    assert note.replace("<br>", " ") == plots.PENDING_REWARD_NOTE
    assert all(len(line) <= plots.TITLE_WIDTH + 4 for line in note.split("<br>"))
    empty = json.loads(plots.figures("hopper", {}, steps=300)[1].plot)
    assert "annotations" not in empty["layout"]  # nothing run yet: nothing to explain


# ------------------------------------------------------------------ the app's API

def plot_figure(plot) -> dict:
    assert isinstance(plot, dict) and plot["type"] == "plotly", plot
    return json.loads(plot["plot"])


def line_traces(figure) -> dict:
    return {t["name"]: t for t in figure["data"] if t.get("mode") == "lines"}


def check_results(results, env, settings, reward="paper"):
    base_video, steered_video, returns_plot, reward_plot, summary, headline, status = results
    assert headline.startswith(f"**Steered {demo_results.NAMES[env]}: return ")
    assert f"reward: {demo_results.reward_label(reward)};" in headline  # the reward used is named
    assert summary["env"] == env and summary["gym_id"] == demo.GYM_IDS[env]
    assert summary["reward"] == reward and summary["reward_label"] == demo_results.reward_label(reward)
    for key, value in settings.items():
        assert summary[key] == (value if isinstance(value, str) else pytest.approx(value)), key
    returns = line_traces(plot_figure(returns_plot))
    rewards = line_traces(plot_figure(reward_plot))
    for planner, video in (("base", base_video), ("steered", steered_video)):
        entry = summary[planner]
        assert 1 <= entry["length"] <= summary["steps"]
        assert entry["fell"] or entry["length"] == summary["steps"]  # short only when the robot fell
        curve = returns[plots.LABELS[planner]]
        assert len(curve["y"]) == entry["length"] and curve["x"][-1] == entry["length"]
        assert curve["y"][-1] == pytest.approx(entry["return"], abs=2e-3)
        learned = rewards[plots.LABELS[planner]]["y"]
        assert len(learned) == entry["length"] and all(v is None or np.isfinite(v) for v in learned)
        assert entry["learned_reward_mean"] == pytest.approx(np.mean([v for v in learned if v is not None]), abs=1e-3)
        # a running cheetah covers up to ~0.6 m per env step (12 m/s at dt 0.05)
        assert entry["distance"] is not None and abs(entry["distance"]) < 0.75 * entry["length"] + 1
        path = video["video"] if isinstance(video, dict) else video
        states = entry["length"] + 1
        check_video(path, render.frame_count(states, render.VIEWS[env].frame_skip))
    assert summary["steered_minus_base"]["return"] == pytest.approx(
        summary["steered"]["return"] - summary["base"]["return"], abs=2e-3)
    return summary


@pytest.fixture(scope="module")
def locomotion_client(request):
    return request.getfixturevalue("api_client")


def test_view_api_lists_the_locomotion_endpoints(locomotion_client):
    api = locomotion_client.view_api(return_format="dict", print_info=False)
    assert ENDPOINTS <= set(api["named_endpoints"])
    assert not api["unnamed_endpoints"]
    run = api["named_endpoints"]["/locomotion_run"]
    # the reward comes last: a client of the five earlier inputs gets the paper's reward
    assert [p["parameter_name"] for p in run["parameters"]] == ["env", "scale", "t_stopgrad", "seed", "steps",
                                                                "reward"]
    assert run["parameters"][-1]["parameter_has_default"] and run["parameters"][-1]["parameter_default"] == "paper"
    # the headline and the status line come after the original five outputs
    assert [r["component"] for r in run["returns"]] == ["Video", "Video", "Plot", "Plot", "Json", "Markdown",
                                                        "Markdown"]
    for name in ("/locomotion_example", "/locomotion_select_env"):
        endpoint = api["named_endpoints"][name]
        assert [p["parameter_name"] for p in endpoint["parameters"]] == ["env"]
        assert [r["component"] for r in endpoint["returns"]] == [
            "Slider", "Slider", "Number", "Slider", "Video", "Video", "Plot", "Plot", "Json", "Markdown", "Markdown",
            "Radio", "Markdown"]
    select_reward = api["named_endpoints"]["/locomotion_select_reward"]
    assert [p["parameter_name"] for p in select_reward["parameters"]] == ["env", "reward"]
    assert [r["component"] for r in select_reward["returns"]] == ["Slider", "Slider", "Markdown"]


@pytest.mark.slow
@pytest.mark.parametrize("env", demo.ENVS)
def test_run_round_trip(locomotion_client, env):
    skip_without_models(env)
    start = time.perf_counter()
    results = locomotion_client.predict(env, 0.5, 5, 3, RUN_STEPS, api_name="/locomotion_run")
    seconds = time.perf_counter() - start
    summary = check_results(results, env, {"seed": 3, "scale": 0.5, "t_stopgrad": 5, "steps": RUN_STEPS})
    assert summary["example"] is False and summary["seconds"]["planning"] > 0
    print(f"{env}: {RUN_STEPS}-step base + steered run through the API in {seconds:.1f} s "
          f"({summary['seconds']})")


@pytest.mark.slow
def test_run_with_the_onpolicy_reward_round_trip(locomotion_client):
    """The Reward switch reaches the run: the extension's steering (mean guidance) and its name in the results."""
    env = next((e for e in demo.ENVS if demo.has_models(e) and "onpolicy" in demo.rewards_of(e)), None)
    if env is None:
        pytest.skip("no env has an on-policy reward: make one with `python -m reward_demo locomotion "
                    "finetune-reward --env hopper`")
    steering = demo.reward_steering(env, "onpolicy")
    results = locomotion_client.predict(env, steering["scale"], steering["t_stopgrad"], 3, RUN_STEPS, "onpolicy",
                                        api_name="/locomotion_run")
    summary = check_results(results, env, {"seed": 3, "steps": RUN_STEPS, "scale": steering["scale"]}, "onpolicy")
    assert summary["guidance"] == steering.get("guidance", "input")


@pytest.mark.slow
@pytest.mark.parametrize("env", demo.ENVS)
def test_example_round_trip(locomotion_client, env):
    """Every trained env ships a precomputed example, made with its current default steering settings."""
    skip_without_models(env)
    assert env in demo_results.load_examples(), (f"no precomputed example for trained env {env!r}: run "
                                        f"`python -m reward_demo.ui.locomotion_examples --env {env}`")
    start = time.perf_counter()
    scale, t_stopgrad, seed, steps, *results, reward, note = locomotion_client.predict(env,
                                                                                       api_name="/locomotion_example")
    assert time.perf_counter() - start < 10  # instant apart from the transfer
    example = demo_results.load_examples()[env]
    settings = example["settings"]
    assert (scale, t_stopgrad, seed) == (settings["scale"], settings["t_stopgrad"], settings["seed"])
    # issue 25: a visitor's first Run after the example is a short one, not the example's length
    assert steps == demo.DEFAULT_STEPS
    # issue 24: the example says which reward it shows, and the Reward choice is set to it
    assert settings.get("reward") in ("paper", "onpolicy"), "the example does not record its reward"
    summary = check_results(results, env, settings, settings["reward"])
    assert reward["value"] == settings["reward"] and [c[1] for c in reward["choices"]] == demo.rewards_of(env)
    assert note.startswith(f"**{demo_results.reward_label(settings['reward'])}**")
    assert summary["example"] is True and "locomotion_examples" in summary["command"]
    assert f"--reward {settings['reward']}" in summary["command"]
    assert "Precomputed example" in results[5] and "Showing the precomputed" in results[6]
    from reward_demo.locomotion.models import steering_defaults

    remake = f"remake it: `{example['command']}`"
    defaults = steering_defaults(env, str(demo.checkpoint_root()), reward=settings["reward"])
    assert {k: settings.get(k, "input") for k in defaults} == defaults, (
        f"the example was made with other steering settings than its reward's defaults; {remake}")
    from reward_demo.ui.locomotion_examples import checkpoint_fingerprints

    assert example["checkpoints"] == checkpoint_fingerprints(env, settings["reward"]), (
        f"the example was made with other checkpoints than the shipped ones; {remake}")


def test_shipped_examples_are_small():
    shipped = demo_results.SHIPPED_ASSETS
    files = [p for p in shipped.glob("*") if p.is_file()] if shipped.is_dir() else []
    assert sum(p.stat().st_size for p in files) < 1.5e6
    examples = demo_results.load_examples() if not os.environ.get("REWARD_DEMO_LOCOMOTION_ASSETS") else {}
    for env, example in examples.items():
        for name in example["videos"].values():
            check_video(shipped / name)


def test_shipped_examples_show_the_paper_reward():
    examples = demo_results.load_examples()
    assert {env: example["settings"].get("reward") for env, example in examples.items()} == dict.fromkeys(
        examples, "paper")


@pytest.mark.slow
def test_select_env_round_trip(locomotion_client):
    env = next((e for e in demo.ENVS if demo.has_models(e)), None)
    if env is None:
        skip_without_models("hopper")
    (scale, t_stopgrad, seed, steps, base_video, _, _, _, summary, headline,
     status, reward, note) = locomotion_client.predict(env, api_name="/locomotion_select_env")
    from reward_demo.locomotion.models import steering_defaults

    example = demo_results.load_examples().get(env)
    chosen = example["settings"].get("reward", "paper") if example else "paper"
    defaults = steering_defaults(env, str(demo.checkpoint_root()), reward=chosen)
    assert (scale, t_stopgrad) == (defaults["scale"], defaults["t_stopgrad"])
    assert reward["value"] == chosen and [c[1] for c in reward["choices"]] == demo.rewards_of(env)
    assert note.startswith(f"**{demo_results.reward_label(chosen)}**")
    assert summary["env"] == env
    assert (base_video is not None) == (env in demo_results.load_examples())
    assert steps == demo.DEFAULT_STEPS and headline.startswith(f"**Steered {demo_results.NAMES[env]}: ") and status


BAD_RUNS = [
    (("atlantis", 0.5, 5, 0, RUN_STEPS), "unknown environment 'atlantis'"),
    (("hopper", -1, 5, 0, RUN_STEPS), "steering scale must be in 0..10"),
    (("hopper", None, 5, 0, RUN_STEPS), "steering scale is missing"),
    (("hopper", 0.5, 5, 0, 5), "episode length (environment steps) must be an integer in 10..300"),
    (("hopper", 0.5, 5, 0, 5000), "episode length (environment steps) must be an integer in 10..300"),
    (("hopper", 0.5, 99, 0, RUN_STEPS), "t_stopgrad"),
    (("hopper", 0.5, -1, 0, RUN_STEPS), "t_stopgrad"),
    (("hopper", 0.5, 5, -2, RUN_STEPS), "seed must be an integer"),
    # issue 25: a string where a number is expected names the input too (Gradio's own check would not)
    (("hopper", 0.5, 5, "abc", RUN_STEPS), "seed must be an integer in 0..2147483647, got 'abc'"),
    (("hopper", 0.5, 5, None, RUN_STEPS), "seed is missing: enter an integer in 0..2147483647"),
    (("hopper", "lots", 5, 0, RUN_STEPS), "steering scale must be a number in 0..10 (0 = no steering)"),
    (("hopper", 0.5, 5, 0, "many"), "episode length (environment steps) must be an integer in 10..300"),
    (("hopper", 0.5, "x", 0, RUN_STEPS), "t_stopgrad"),
    ((None, 0.5, 5, 0, RUN_STEPS), "unknown environment None: choose one of"),
    # issue 24: the reward input names itself and its choices
    (("hopper", 0.5, 5, 0, RUN_STEPS, "best"), "reward must be one of paper, onpolicy (paper: paper (offline); "
                                               "onpolicy: on-policy fine-tuned (extension)), got 'best'"),
    (("hopper", 0.5, 5, 0, RUN_STEPS, None), "reward must be one of paper, onpolicy"),
    (("halfcheetah", 0.5, 5, 0, RUN_STEPS, "onpolicy"), "locomotion env 'halfcheetah' has no 'onpolicy' reward"),
]


@pytest.mark.parametrize("inputs,message", BAD_RUNS, ids=[m.split()[0] + str(i) for i, (_, m) in enumerate(BAD_RUNS)])
def test_bad_run_input_gives_clear_error(locomotion_client, inputs, message):
    """After a select_env / example call too (they set the controls' values, never replace the components)."""
    if "hopper" in demo_results.load_examples():
        locomotion_client.predict("hopper", api_name="/locomotion_example")
    if inputs[0] == "hopper" and "t_stopgrad" in message:
        skip_without_models("hopper")  # the range comes from the models
    if "has no 'onpolicy' reward" in message:
        skip_without_models(inputs[0])
    with pytest.raises(Exception) as info:
        locomotion_client.predict(*inputs, api_name="/locomotion_run")
    text = str(info.value)
    assert message in text and "Traceback" not in text, text
    if "t_stopgrad" in message:
        assert "must be an integer in 0.." in text


def test_bad_env_other_endpoints(locomotion_client):
    for endpoint, inputs in (("/locomotion_example", ("atlantis",)), ("/locomotion_select_env", ("atlantis",)),
                             ("/locomotion_select_reward", ("atlantis", "paper"))):
        with pytest.raises(Exception) as info:
            locomotion_client.predict(*inputs, api_name=endpoint)
        assert "unknown environment 'atlantis'" in str(info.value)


def test_select_reward_round_trip_resets_the_steering_to_the_rewards(locomotion_client):
    """Switching the reward sets scale and t_stopgrad to that reward's defaults and says what it is; a bad or
    missing reward is a clear error naming the input."""
    env = first_trained_env()
    for reward in demo.rewards_of(env):
        scale, t_stopgrad, note = locomotion_client.predict(env, reward, api_name="/locomotion_select_reward")
        steering = demo.reward_steering(env, reward)
        assert (scale, t_stopgrad) == (steering["scale"], steering["t_stopgrad"])
        assert note.startswith(f"**{demo_results.reward_label(reward)}**")
        assert f"{steering.get('guidance', 'input')} guidance" in note
    bad = [((env, "best"), "reward must be one of paper, onpolicy"), ((env, ""), "got ''")]
    if demo.has_models("halfcheetah"):
        bad.append((("halfcheetah", "onpolicy"), "finetune-reward --env halfcheetah"))
    for inputs, message in bad:
        with pytest.raises(Exception) as info:
            locomotion_client.predict(*inputs, api_name="/locomotion_select_reward")
        assert message in str(info.value) and "Traceback" not in str(info.value), str(info.value)


def test_tab_reward_switch_unit_level():
    """The handlers behind the Reward choice, without a server: the paper's reward first and the default, the
    extension offered only where made, switching resets the steering."""
    from reward_demo.services import build_services
    from reward_demo.ui.locomotion_tab import LocomotionHandlers

    tab = LocomotionHandlers(build_services().locomotion)

    env = first_trained_env()
    assert tab.reward_choices(env)[0] == ("paper (offline)", "paper")
    for e in demo.trained_envs():
        assert [name for _, name in tab.reward_choices(e)] == demo.rewards_of(e)
    choice, note = tab.reward_outputs(env, "paper")
    assert choice.value == "paper" and note.startswith("**paper (offline)**")
    for reward in demo.rewards_of(env):
        steering = demo.reward_steering(env, reward)
        assert tab.select_reward(env, reward)[:2] == (steering["scale"], steering["t_stopgrad"])
    import gradio as gr

    with pytest.raises(gr.Error, match="reward must be one of paper, onpolicy"):
        tab.select_reward(env, "Paper")
    if demo.has_models("halfcheetah"):
        assert demo.rewards_of("halfcheetah") == ["paper"]  # the extension was not made for it
        with pytest.raises(gr.Error, match="has no 'onpolicy' reward"):
            tab.select_reward("halfcheetah", "onpolicy")
        choice, note = tab.reward_outputs("halfcheetah", "paper")
        assert [c[1] for c in choice.choices] == ["paper"] and "no on-policy extension" in note


def test_untrained_env_says_how_to_train(locomotion_client, app_services, monkeypatch, tmp_path):
    """The app runs in this process: point its locomotion service at an empty checkpoint folder (no trained models
    needed)."""
    monkeypatch.setattr(app_services.locomotion, "checkpoints", tmp_path)
    for endpoint, inputs in (("/locomotion_run", ("walker2d", 0.5, 5, 0, RUN_STEPS)),
                             ("/locomotion_select_env", ("walker2d",))):
        with pytest.raises(Exception) as info:
            locomotion_client.predict(*inputs, api_name=endpoint)
        text = str(info.value)
        assert "not trained yet" in text and "python -m reward_demo locomotion train-planners --env walker2d" in text


@pytest.mark.slow
def test_cancel_stops_the_run(locomotion_client, rollout_steps_seen):
    """Cancelling a run's job stops the planning loop on the server (not just the client's wait)."""
    env = next((e for e in demo.ENVS if demo.has_models(e)), None)
    if env is None:
        skip_without_models("hopper")
    steps_seen = rollout_steps_seen
    job = locomotion_client.submit(env, 0.5, 5, 0, demo.MAX_STEPS, api_name="/locomotion_run")
    deadline = time.time() + 60
    while len(steps_seen) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert steps_seen, "the run did not start"
    job.cancel()
    time.sleep(1.0)
    stopped_at = len(steps_seen)
    time.sleep(1.5)
    assert len(steps_seen) <= stopped_at + 1 and stopped_at < demo.MAX_STEPS, (stopped_at, len(steps_seen))


@pytest.mark.slow
def test_run_streams_a_first_result_quickly_and_cheap_actions_do_not_wait(locomotion_client):
    """The first partial result arrives within 15 s of pressing Run (2 s here); the example, env switching and
    Cancel answer within 2 s while a run is in flight; ``predict`` gives the finished run."""
    env = first_trained_env()
    steps = 40
    start = time.perf_counter()
    job = locomotion_client.submit(env, 0.5, 5, 3, steps, api_name="/locomotion_run")
    while not job.outputs() and not job.done():
        time.sleep(0.05)
    first = time.perf_counter() - start
    partial = job.outputs()[0]
    assert partial[5].startswith("**Step ") and "so far:" in partial[5], partial[5]
    assert line_traces(plot_figure(partial[2])), "the first result draws the curves so far"
    assert first < 15, f"first result after {first:.1f} s"
    cheap = {}
    for endpoint, inputs in (("/locomotion_example", (env,)), ("/locomotion_select_env", (env,))):
        begin = time.perf_counter()
        locomotion_client.predict(*inputs, api_name=endpoint)
        cheap[endpoint] = time.perf_counter() - begin
    assert not job.done(), "the run ended before the cheap actions were timed: make it longer"
    assert max(cheap.values()) < 2, cheap
    results = job.result()
    assert len(job.outputs()) >= 3  # partial result(s), the finished curves, then the videos
    check_results(results, env, {"seed": 3, "scale": 0.5, "t_stopgrad": 5, "steps": steps})
    assert results[5].startswith(f"**Steered {demo_results.NAMES[env]}:") and results[6].startswith("Finished")
    print(f"{env}: first streamed result {first:.1f} s after submit; while running: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in cheap.items()))


@pytest.mark.slow
def test_cancel_endpoint_says_so_and_keeps_the_results_so_far(locomotion_client, rollout_steps_seen):
    env = first_trained_env()
    assert locomotion_client.predict(api_name="/locomotion_cancel")[1] == "No run in progress to cancel."
    job = locomotion_client.submit(env, 0.5, 5, 0, demo.MAX_STEPS, api_name="/locomotion_run")
    while not job.outputs() and not job.done():
        time.sleep(0.05)
    headline, status = locomotion_client.predict(api_name="/locomotion_cancel")
    match = re.fullmatch(r"Run cancelled at step (\d+) of 300: its results so far are kept\.", status)
    assert match, status
    assert headline.startswith(f"**Cancelled at step {match.group(1)} of 300; up to then:** Steered "), headline
    final = job.result(timeout=20)  # the run ends by saying so; the rest is kept (skipped)
    assert final[5:] == [headline, status] or tuple(final[5:]) == (headline, status), final
    time.sleep(1.0)
    stopped_at = len(rollout_steps_seen)
    time.sleep(1.5)
    assert len(rollout_steps_seen) == stopped_at < demo.MAX_STEPS


@pytest.mark.slow
def test_cancel_reports_the_run_when_gradio_drops_its_event_first(monkeypatch):
    """Gradio's ``cancels`` and the Cancel handler race: when the run's event is dropped first, the run stops, and
    the handler that comes after it still says at which step (it said "No run in progress" before)."""
    from reward_demo.services import build_services
    from reward_demo.ui import locomotion_tab
    from reward_demo.ui.locomotion_tab import LocomotionHandlers

    env = first_trained_env()
    tab = LocomotionHandlers(build_services().locomotion)
    alive = {"event": True}
    monkeypatch.setattr(locomotion_tab, "_event_alive", lambda: alive["event"])
    run = tab.run(env, 0.5, 5, 0, 40, progress=lambda *args, **kwargs: None)
    first = next(run)
    assert first[-2].startswith("**Step ") and tab.runs_in_flight
    alive["event"] = False  # the queue dropped the run's event: its next step notices
    last = list(run)[-1]
    assert re.match(r"Run cancelled at step \d+ of 40", last[-1]), last[-1]
    headline, status = tab.cancel_run(None)
    assert re.match(r"Run cancelled at step \d+ of 40", status) and "Cancelled at step" in headline
    assert tab.cancel_run(None)[1] == "No run in progress to cancel." and not tab.runs_in_flight


@pytest.mark.slow
def test_a_closed_page_stops_and_forgets_its_run(monkeypatch, app_services, app_demo):
    """A page closed mid-run sends no Cancel: the app's unload event stops the session's run and drops it, also when
    the queue dropped the run's event first (the run then stays listed for a Cancel that never comes)."""
    from types import SimpleNamespace

    from reward_demo.ui import locomotion_tab
    from reward_demo.ui.locomotion_tab import LocomotionHandlers

    env = first_trained_env()
    tab = LocomotionHandlers(app_services.locomotion)
    alive = {"event": True}
    monkeypatch.setattr(locomotion_tab, "_event_alive", lambda: alive["event"])
    page = SimpleNamespace(session_hash="page-a")
    run = tab.run(env, 0.5, 5, 0, 40, request=page, progress=lambda *args, **kwargs: None)
    next(run)
    state = tab.runs_in_flight["page-a"]
    alive["event"] = False  # the page went away: the queue dropped the run's event
    assert re.match(r"Run cancelled at step \d+ of 40", list(run)[-1][-1])
    assert tab.runs_in_flight == {"page-a": state}
    tab.forget_session(SimpleNamespace(session_hash="page-b"))  # another page's unload leaves it
    assert tab.runs_in_flight == {"page-a": state}
    tab.forget_session(page)
    assert not tab.runs_in_flight and state.stop.is_set()
    alive["event"] = True  # a run still going when its page unloads is stopped by it
    run = tab.run(env, 0.5, 5, 0, 40, request=page, progress=lambda *args, **kwargs: None)
    next(run)
    tab.forget_session(page)
    assert re.match(r"Run cancelled at step \d+ of 40", list(run)[-1][-1]) and not tab.runs_in_flight

    assert [fn.__name__ for fn in unload_functions(app_demo)] == ["forget_session"]

