"""The Locomotion tab: the unsteered base diffusion planner and the same planner steered by the learned
relative reward, run from the same seed side by side on Hopper / HalfCheetah / Walker2d (gymnasium v5,
MuJoCo): two videos, the cumulative environment return of both over time, the learned reward along each
executed trajectory, and a summary (return, D4RL-normalised score, length).

API endpoints (every event has an ``api_name``; see ``build_tab``):

``locomotion_run(env, scale, t_stopgrad, seed, steps) -> (base video, steered video, returns plot, reward plot, summary)``
``locomotion_example(env) -> (scale, t_stopgrad, seed, steps, base video, steered video, returns plot, reward plot, summary)``
``locomotion_select_env(env) -> (scale, t_stopgrad, seed, steps, base video, steered video, returns plot, reward plot, summary)``

``locomotion_example`` shows the precomputed run shipped in ``assets/locomotion/`` (instant; also shown on page
load); ``locomotion_select_env`` loads the env's models (once per process), resets the controls to its
defaults and shows its example. Only environments whose checkpoints exist are offered.

The precomputed examples are made by ``python -m reward_demo.ui.locomotion_examples`` (see that module). The handlers are plain functions of this module, callable without a server; bad input
raises ``gr.Error`` naming the input and what is allowed.
"""
from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before anything imports mujoco (gymnasium does)

import functools  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from gradio.components.plot import PlotData  # noqa: E402

from .errors import RunCancelled, checked_by_handler, user_errors  # noqa: E402

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ASSETS = REPO_ROOT / "assets" / "locomotion"
ENVS = ("hopper", "halfcheetah", "walker2d")
GYM_IDS = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5"}
PLANNERS = ("base", "steered")
#: episode length cap: a steered run (base + steered, batch 2) of MAX_STEPS steps stays well under a minute here
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 10, 300, 100
MAX_SCALE = 10.0
MAX_SEED = 2 ** 31 - 1
DEFAULT_SEED = 0
#: the shipped examples: longer than the interactive cap (computed offline), same seed for every env
EXAMPLE_SEED = 0
EXAMPLE_STEPS = {"hopper": 400, "walker2d": 400, "halfcheetah": 200}
RUN_DIR = Path(tempfile.gettempdir()) / "reward_demo_locomotion"
RUN_DIR_MAX_AGE_S = 3600.0
COLOURS = {"base": "#7f7f7f", "steered": "#d6249f"}
LABELS = {"base": "base planner", "steered": "steered base (learned reward)"}
WIDTHS = {"base": 4.5, "steered": 2.0}  # the base line drawn wider underneath: identical curves stay visible
TRAIN_COMMAND = "python -m reward_demo locomotion train-planners --env {env}"


# ------------------------------------------------------------------ models
def checkpoint_root() -> Path:
    """$REWARD_DEMO_LOCOMOTION_CHECKPOINTS (development) or the shipped checkpoints/locomotion."""
    from ..locomotion.planner import checkpoint_root as planner_checkpoint_root

    return planner_checkpoint_root()


def assets_dir() -> Path:
    """Where the precomputed examples live: $REWARD_DEMO_LOCOMOTION_ASSETS (development, tests) or assets/locomotion."""
    return Path(os.environ.get("REWARD_DEMO_LOCOMOTION_ASSETS") or SHIPPED_ASSETS)


def examples_json() -> Path:
    return assets_dir() / "examples.json"


def has_models(env: str) -> bool:
    """True when the env's base, expert and reward checkpoints (config.json + model.safetensors) are present."""
    from ..checkpoint import saved_modules_present

    return saved_modules_present(checkpoint_root() / env, ("base", "expert", "reward"))


def trained_envs() -> List[str]:
    return [e for e in ENVS if has_models(e)]


def check_env(env) -> str:
    """A known environment name (short name or gymnasium id, any case) -> its short name."""
    name = str(env).strip().lower() if isinstance(env, str) else None
    for key, gym_id in GYM_IDS.items():
        if name in (key, gym_id.lower()):
            return key
    raise ValueError(f"unknown environment {env!r}: choose one of {list(ENVS)}")


def check_trained(env) -> str:
    env = check_env(env)
    if not has_models(env):
        raise FileNotFoundError(f"environment {env!r} is not trained yet (no base/expert/reward checkpoints in "
                                f"{checkpoint_root() / env}); trained: {trained_envs() or 'none'}. "
                                f"Train it with `{TRAIN_COMMAND.format(env=env)}`")
    return env


def get_models(env):
    """The env's models, loaded once per process (``load_locomotion_models`` caches them)."""
    from ..locomotion.planner import load_locomotion_models

    env = check_trained(env)
    root = os.environ.get("REWARD_DEMO_LOCOMOTION_CHECKPOINTS")
    return load_locomotion_models(env, root=root) if root else load_locomotion_models(env)


def n_timesteps(models) -> int:
    return int(models.base.n_timesteps)


def configured_timesteps(env: str, fallback: int = 20) -> int:
    """The base planner's diffusion steps T from its config.json (without loading weights), for the slider range."""
    try:
        config = json.loads((checkpoint_root() / env / "base" / "config.json").read_text())
        return int(config["config"]["n_timesteps"])
    except (OSError, ValueError, KeyError, TypeError):
        return fallback


# ------------------------------------------------------------------ input checks
def _number(value, name: str) -> float:
    if value is None or isinstance(value, bool):
        raise ValueError(f"{name} is missing: enter a number")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return out


def _integer(value, name: str, low: int, high: int) -> int:
    number = _number(value, name)
    if number != int(number) or not low <= number <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return int(number)


def parse_scale(scale) -> float:
    value = _number(scale, "steering scale")
    if not 0 <= value <= MAX_SCALE:
        raise ValueError(f"steering scale must be in 0..{MAX_SCALE:g} (0 = no steering), got {scale!r}")
    return value


def parse_t_stopgrad(t_stopgrad, models) -> int:
    T = n_timesteps(models)
    return _integer(t_stopgrad, f"t_stopgrad (no guidance at diffusion steps t < t_stopgrad; {T} = none)", 0, T)


def parse_steps(steps) -> int:
    return _integer(steps, "episode length (environment steps)", MIN_STEPS, MAX_STEPS)


def parse_seed(seed) -> int:
    return _integer(seed, "seed", 0, MAX_SEED)


# ------------------------------------------------------------------ episodes
@dataclass
class Episode:
    """One executed episode, trimmed to its length."""

    planner: str
    env_rewards: np.ndarray  # (length,)
    learned_rewards: np.ndarray  # (length,)
    ret: float
    score: float
    length: int
    terminated: bool  # ended before the step limit (fell)
    qpos: Optional[np.ndarray] = None  # (states, nq)
    qvel: Optional[np.ndarray] = None

    def summary(self) -> dict:
        finite = self.learned_rewards[np.isfinite(self.learned_rewards)]
        return {"return": round(self.ret, 3), "normalized_score": round(self.score, 2), "length": self.length,
                "fell": self.terminated,
                "learned_reward_mean": round(float(finite.mean()), 5) if len(finite) else None}


def _episode(batch, i: int, planner: str, max_steps: int) -> Episode:
    length = int(batch.lengths[i])
    rewards = np.asarray(batch.env_rewards[i], dtype=np.float64)[:length]
    learned = np.asarray(batch.learned_rewards[i], dtype=np.float64)[:length]
    qpos = qvel = None
    if getattr(batch, "qpos", None) is not None:
        qpos = np.asarray(batch.qpos[i], dtype=np.float64)[: length + 1]
        qvel = np.asarray(batch.qvel[i], dtype=np.float64)[: length + 1]
    terminated = bool(batch.terminated[i]) if getattr(batch, "terminated", None) is not None else length < max_steps
    return Episode(planner, rewards, learned, float(batch.returns[i]), float(batch.scores[i]), length, terminated,
                   qpos, qvel)


def _event_alive() -> bool:
    """False once the Gradio event this thread works for has been cancelled (or its client went away).

    Gradio cancels the event's asyncio task, but a synchronous handler runs on in its worker thread; the queue
    drops a cancelled event from its active jobs, which is what this checks. Outside a Gradio event: True."""
    try:
        from gradio.context import LocalContext

        blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
        queue = getattr(blocks, "_queue", None) if blocks is not None else None
        if queue is None or not event_id:
            return True
        return any(evt._id == event_id for job in list(queue.active_jobs) if job for evt in job)
    except Exception:  # a Gradio internals change must not break runs
        return True


def run_pair(models, seed: int, scale: float, t_stopgrad: int, steps: int,
             progress: Optional[Callable[[int, int], None]] = None) -> Dict[str, Episode]:
    """The base planner and the reward-steered base planner from the same reset seed, as one batch of two
    episodes (scale 0 and ``scale``, with the guidance the reward is meant for), MuJoCo states recorded.

    ``progress(step, steps)`` is called every environment step (raise from it to cancel)."""
    from ..locomotion.planner import rollout

    batch = rollout(models, [seed, seed], [0.0, float(scale)], [t_stopgrad, t_stopgrad], max_steps=steps,
                    planner="base", record_states=True, progress=progress, generator_seed=seed,
                    guidance=models.guidance)
    return {planner: _episode(batch, i, planner, steps) for i, planner in enumerate(PLANNERS)}


# ------------------------------------------------------------------ figures
def _steps(n: int) -> List[int]:
    return list(range(1, n + 1))


def _round(values, digits: int = 4) -> list:
    return [round(float(v), digits) if math.isfinite(float(v)) else None for v in values]


def returns_figure(curves: Dict[str, dict], title: str) -> dict:
    """Cumulative environment return of each planner over the episode (a cross where an episode ended early)."""
    traces = []
    for planner in PLANNERS:
        if planner not in curves:
            continue
        cum = np.cumsum(np.asarray(curves[planner]["env_rewards"], dtype=np.float64))
        traces.append({"type": "scatter", "mode": "lines", "name": LABELS[planner], "x": _steps(len(cum)),
                       "y": _round(cum, 3), "line": {"color": COLOURS[planner], "width": WIDTHS[planner]},
                       "hovertemplate": "step %{x}<br>return %{y:.1f}<extra>" + planner + "</extra>"})
        if curves[planner].get("fell") and len(cum):
            traces.append({"type": "scatter", "mode": "markers", "name": f"{planner} falls", "x": [len(cum)],
                           "y": [round(float(cum[-1]), 3)], "showlegend": False,
                           "marker": {"symbol": "x", "size": 11, "color": COLOURS[planner]},
                           "hovertemplate": f"{planner}: episode ends (fell) at step %{{x}}<extra></extra>"})
    return _figure(traces, title, "cumulative environment return")


def learned_reward_figure(curves: Dict[str, dict], title: str) -> dict:
    """The learned relative reward along each executed trajectory."""
    traces = [{"type": "scatter", "mode": "lines", "name": LABELS[p], "x": _steps(len(curves[p]["learned_rewards"])),
               "y": _round(curves[p]["learned_rewards"], 5), "line": {"color": COLOURS[p], "width": WIDTHS[p]},
               "hovertemplate": "step %{x}<br>learned reward %{y:.4f}<extra>" + p + "</extra>"}
              for p in PLANNERS if p in curves]
    return _figure(traces, title, "learned reward r(s, a)")


def _figure(traces: list, title: str, ytitle: str) -> dict:
    return {"data": traces,
            "layout": {"title": {"text": title, "font": {"size": 14}}, "height": 340,
                       "margin": {"l": 60, "r": 16, "t": 48, "b": 92},
                       "xaxis": {"title": {"text": "environment step"}, "rangemode": "tozero"},
                       "yaxis": {"title": {"text": ytitle}},
                       "legend": {"orientation": "h", "y": -0.3, "yanchor": "top", "x": 0},
                       "hovermode": "x unified", "template": "plotly_white"}}


def _plot(figure: dict) -> PlotData:
    return PlotData(type="plotly", plot=json.dumps(figure, separators=(",", ":"), allow_nan=False))


def curves_of(episodes: Dict[str, Episode]) -> Dict[str, dict]:
    return {p: {"env_rewards": _round(e.env_rewards, 4), "learned_rewards": _round(e.learned_rewards, 5),
                "fell": e.terminated} for p, e in episodes.items()}


def figures(env: str, curves: Dict[str, dict], settings: dict) -> Tuple[PlotData, PlotData]:
    tail = f"seed {settings['seed']}, scale {settings['scale']:g}, t_stopgrad {settings['t_stopgrad']}"
    if settings.get("guidance") == "mean":
        tail += ", mean guidance"
    return (_plot(returns_figure(curves, f"{GYM_IDS[env]}: cumulative return ({tail})")),
            _plot(learned_reward_figure(curves, f"{GYM_IDS[env]}: learned reward along each trajectory")))


def summary_json(env: str, settings: dict, episodes: Dict[str, dict], **extra) -> dict:
    out = {"env": env, "gym_id": GYM_IDS[env], **settings, **episodes}
    if "base" in episodes and "steered" in episodes:
        out["steered_minus_base"] = {
            "return": round(episodes["steered"]["return"] - episodes["base"]["return"], 3),
            "normalized_score": round(episodes["steered"]["normalized_score"] - episodes["base"]["normalized_score"], 2)}
    out.update(extra)
    return out


# ------------------------------------------------------------------ videos
def _run_folder() -> Path:
    """A fresh folder for one run's videos; folders older than an hour are removed (Gradio has copied them)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in RUN_DIR.iterdir():
        if old.name == "examples":
            continue
        try:
            if now - old.stat().st_mtime > RUN_DIR_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    folder = RUN_DIR / uuid.uuid4().hex[:12]
    folder.mkdir()
    return folder


def render_videos(env: str, episodes: Dict[str, Episode], folder: Path, stem: str,
                  progress: Optional[Callable[[int, int, str], None]] = None) -> Dict[str, str]:
    from ..locomotion.render import frame_count, render_episode, VIEWS

    total = sum(frame_count(len(e.qpos), VIEWS[env].frame_skip) for e in episodes.values())
    done = 0
    paths = {}
    for planner, episode in episodes.items():
        def on_frame(i, n, planner=planner, offset=done):
            if progress is not None:
                progress(offset + i, total, planner)

        result = render_episode(env, episode.qpos, episode.qvel, folder / f"{stem}_{planner}.mp4", progress=on_frame)
        done += result.frames
        paths[planner] = str(result.path)
    return paths


# ------------------------------------------------------------------ handlers (one per API endpoint)
@user_errors
def run(env, scale, t_stopgrad, seed, steps, progress=gr.Progress()):
    """locomotion_run: base and steered planner from the same seed -> (base video, steered video, returns plot,
    learned-reward plot, summary JSON)."""
    env = check_trained(env)
    scale = parse_scale(scale)
    steps = parse_steps(steps)
    seed = parse_seed(seed)
    progress(0.0, desc=f"loading the {env} models")
    models = get_models(env)
    t_stopgrad = parse_t_stopgrad(t_stopgrad, models)

    def on_step(step, total):
        if not _event_alive():
            raise RunCancelled()
        progress((step, total), desc="planning base + steered (one batch): environment step", unit="steps")

    start = time.perf_counter()
    episodes = run_pair(models, seed, scale, t_stopgrad, steps, on_step)
    planning = time.perf_counter() - start

    def on_frame(done, total, planner):
        if not _event_alive():
            raise RunCancelled()
        progress((done, total), desc=f"rendering the {planner} video", unit="frames")

    start = time.perf_counter()
    videos = render_videos(env, episodes, _run_folder(), f"{env}_seed{seed}", on_frame)
    rendering = time.perf_counter() - start
    settings = {"seed": seed, "scale": scale, "t_stopgrad": t_stopgrad, "steps": steps,
                "guidance": models.guidance}
    summary = summary_json(env, settings, {p: e.summary() for p, e in episodes.items()},
                           seconds={"planning": round(planning, 2), "rendering": round(rendering, 2)},
                           example=False)
    return (videos["base"], videos["steered"], *figures(env, curves_of(episodes), settings), summary)


@functools.lru_cache(maxsize=4)
def _examples_file(path: Path, mtime: float) -> dict:
    return json.loads(path.read_text())


def load_examples() -> dict:
    """{env: example} of assets/locomotion/examples.json ({} when absent)."""
    path = examples_json()
    try:
        return _examples_file(path, path.stat().st_mtime)["envs"]
    except FileNotFoundError:
        return {}


def example_outputs(env: str) -> tuple:
    """(scale, t_stopgrad, seed, steps, base video, steered video, returns plot, reward plot, summary) of the env's
    shipped example run."""
    examples = load_examples()
    if env not in examples:
        raise FileNotFoundError(f"no precomputed example for {env!r} in {examples_json()} (examples: "
                                f"{sorted(examples) or 'none'}); make them with "
                                f"`python -m reward_demo.ui.locomotion_examples`")
    example = examples[env]
    settings = example["settings"]
    # served from a copy in the temp dir: Gradio serves files from there whatever the working directory
    assets = assets_dir()
    folder = RUN_DIR / "examples" / hashlib.sha1(str(assets.resolve()).encode()).hexdigest()[:10]
    folder.mkdir(parents=True, exist_ok=True)
    videos = {}
    for planner in PLANNERS:
        source = assets / example["videos"][planner]
        target = folder / source.name
        if not target.is_file() or target.stat().st_mtime < source.stat().st_mtime:
            shutil.copyfile(source, target)
        videos[planner] = str(target)
    summary = summary_json(env, settings, example["summary"], example=True, command=example.get("command"))
    return (settings["scale"], settings["t_stopgrad"], settings["seed"], min(settings["steps"], MAX_STEPS),
            videos["base"], videos["steered"], *figures(env, example["curves"], settings), summary)


@user_errors
def example(env):
    """locomotion_example: the env's precomputed example run (controls set to its settings, steps capped)."""
    return example_outputs(check_env(env))


@user_errors
def select_env(env):
    """locomotion_select_env: load the env's models (once) and show its example run (controls set to the example's
    settings, which are the env's default steering settings); without an example: the defaults and empty outputs.

    Controls get plain values, never component updates: an update would replace the session's copy of the input
    component and with it ``checked_by_handler``'s pass-through (Gradio's range check would come back)."""
    env = check_trained(env)
    models = get_models(env)
    if env in load_examples():
        return example_outputs(env)
    defaults = models.defaults
    settings = {"seed": DEFAULT_SEED, "scale": float(defaults["scale"]), "t_stopgrad": int(defaults["t_stopgrad"]),
                "steps": DEFAULT_STEPS, "guidance": models.guidance}
    return (settings["scale"], settings["t_stopgrad"], DEFAULT_SEED, DEFAULT_STEPS, None, None,
            *figures(env, {}, settings),
            summary_json(env, settings, {}, example=False, note="no precomputed example: press Run"))


# ------------------------------------------------------------------ layout
def default_env() -> str:
    """The first env with a shipped example and models, else the first trained env, else hopper."""
    trained = trained_envs()
    with_example = [e for e in trained if e in load_examples()]
    return (with_example or trained or ["hopper"])[0]


def default_steering() -> Dict[str, dict]:
    """{env: {"scale", "t_stopgrad"[, "guidance"]}} of each trained env: the steering its reward is meant for
    (``planner.steering_defaults``), read from the configs without loading a model."""
    try:
        from ..locomotion.planner import steering_defaults
    except ImportError:  # the app still builds (with a clear error on use) without the planner module
        return {}
    return {e: steering_defaults(e, str(checkpoint_root())) for e in trained_envs()}


def build_tab(demo: Optional[gr.Blocks] = None) -> Dict[str, gr.components.Component]:
    """Build the Locomotion tab's components and events inside the current Blocks / Tab context.

    ``demo``: the enclosing Blocks; when given, the default env's example run is shown on page load.
    Returns the components by name (for tests)."""
    trained = trained_envs()
    missing = [e for e in ENVS if e not in trained]
    env0 = default_env()
    steering = default_steering()
    defaults_note = ", ".join(f"{e} {v['scale']:g} (t_stopgrad {v['t_stopgrad']})" for e, v in steering.items()) or "-"
    start = steering.get(env0, {"scale": 0.5, "t_stopgrad": 5})
    gr.Markdown(
        "Each environment has a **base** diffusion planner trained on low-return data (the replay buffer of an RL "
        "run up to about a third of the expert's return, as D4RL *medium-replay*), an **expert** planner trained on "
        "expert rollouts, and the **relative reward** learned from the pair by gradient matching. Here the base "
        "planner runs in the simulator twice from the same seed: unsteered, and **steered** by the learned "
        "reward's gradient during sampling. A precomputed example is shown; *Run* plans a fresh episode "
        f"(capped at {MAX_STEPS} environment steps so that it stays interactive on a small CPU; the planner "
        "replans at every step).")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            env = checked_by_handler(gr.Dropdown(
                [(f"{e} ({GYM_IDS[e]})", e) for e in trained] or [("hopper (not trained yet)", "hopper")],
                value=env0, label="Environment", elem_id="loco-env"))
            if missing:
                gr.Markdown("**Not trained yet:** " + "; ".join(
                    f"{e}, train with `{TRAIN_COMMAND.format(env=e)}`" for e in missing), elem_id="loco-missing")
            scale = checked_by_handler(gr.Slider(
                0, MAX_SCALE, value=start["scale"], step=0.05, label="Steering scale (0 = unsteered)",
                info=f"recommended: {defaults_note}", elem_id="loco-scale"))
            t_stopgrad = checked_by_handler(gr.Slider(
                0, max([configured_timesteps(e) for e in trained] or [20]), value=start["t_stopgrad"], step=1,
                label="t_stopgrad",
                info="no reward guidance at diffusion steps t < t_stopgrad", elem_id="loco-t-stopgrad"))
            steps = checked_by_handler(gr.Slider(
                MIN_STEPS, MAX_STEPS, value=DEFAULT_STEPS, step=10,
                label=f"Episode length ({MIN_STEPS}-{MAX_STEPS} environment steps)", elem_id="loco-steps",
                info="capped so that a run stays interactive on a small CPU"))
            seed = gr.Number(DEFAULT_SEED, label="Seed (reset state of both episodes)", precision=0,
                             elem_id="loco-seed")
            with gr.Row():
                run_button = gr.Button("Run base + steered", variant="primary", elem_id="loco-run")
                cancel = gr.Button("Cancel", variant="stop", elem_id="loco-cancel")
            example_button = gr.Button("Show the precomputed example", size="sm", elem_id="loco-example")
        with gr.Column(scale=3, min_width=480):
            with gr.Row():
                base_video = gr.Video(label="Base planner", autoplay=True, loop=True, interactive=False,
                                      elem_id="loco-video-base")
                steered_video = gr.Video(label="Steered base planner (learned reward)", autoplay=True, loop=True,
                                         interactive=False, elem_id="loco-video-steered")
            with gr.Row():
                returns_plot = gr.Plot(label="Cumulative return", elem_id="loco-returns")
                reward_plot = gr.Plot(label="Learned reward along the trajectory", elem_id="loco-reward")
            summary = gr.JSON(label="Summary", elem_id="loco-summary", max_height=300)

    results = [base_video, steered_video, returns_plot, reward_plot, summary]
    controls = [scale, t_stopgrad, seed, steps]
    run_event = run_button.click(run, [env, scale, t_stopgrad, seed, steps], results, api_name="locomotion_run",
                                 concurrency_id="locomotion_run")
    cancel.click(None, None, None, cancels=[run_event], api_name="locomotion_cancel")  # private: clients cancel their job
    example_triggers = [example_button.click]
    if demo is not None and env0 in load_examples():  # nothing to show (and no error toast) without an example
        example_triggers.append(demo.load)
    gr.on(example_triggers, example, [env], [*controls, *results], api_name="locomotion_example", queue=False)
    env.input(select_env, [env], [*controls, *results], api_name="locomotion_select_env",
              concurrency_id="locomotion_select_env")
    return {"env": env, "scale": scale, "t_stopgrad": t_stopgrad, "seed": seed, "steps": steps, "run": run_button,
            "cancel": cancel, "example": example_button, "base_video": base_video, "steered_video": steered_video,
            "returns_plot": returns_plot, "reward_plot": reward_plot, "summary": summary}
