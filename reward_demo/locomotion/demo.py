"""The Locomotion tab's runs, outside any UI: which environments are trained and which rewards each has (the
paper's offline reward, the default, and where made the on-policy extension), the checks of the tab's inputs
(every message names the input and what is allowed), and the base and steered planner run side by side from
one seed, either at once (``run_pair``, for the precomputed examples) or streamed while it runs
(``stream_pair``, for a visitor: the curves so far every couple of seconds, the videos at the end).

What a run is shown as (headline, summary, the shipped examples) lives in ``demo_results``."""
from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before anything imports mujoco (gymnasium does)

import contextvars  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, Iterator, List, Optional  # noqa: E402

import numpy as np  # noqa: E402

from .. import options  # noqa: E402
from .demo_results import ENVS, GYM_IDS, PLANNERS, RUN_DIR, default_env, example_run, load_examples  # noqa: E402

#: episode length: a 100-step run takes about half a minute on a 2-core CPU (its curves show from the first
#: seconds on); the cap keeps the longest run near two minutes
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 10, 300, 100
MAX_SCALE = 10.0
MAX_SEED = 2 ** 31 - 1
DEFAULT_SEED = 0
TRAIN_COMMAND = "python -m reward_demo locomotion train-planners --env {env}"
#: the reward a run plans with unless another is picked: the paper's (``models.DEFAULT_REWARD``; not imported
#: from there, which loads torch)
DEFAULT_REWARD = "paper"
RUN_DIR_MAX_AGE_S = 3600.0
#: a streamed run shows its curves so far this often
UPDATE_EVERY_S = 2.0
#: how long rendering one video frame takes here, for the time-left estimate before rendering has started
RENDER_S_PER_FRAME = 0.05


# ------------------------------------------------------------------ environments and models
# Each takes the checkpoint root (default: $REWARD_DEMO_LOCOMOTION_CHECKPOINTS, else the shipped
# checkpoints/locomotion); the tab's ``LocomotionDemo`` passes the one it was built with.
def checkpoint_root(root=None) -> Path:
    """``root``, else $REWARD_DEMO_LOCOMOTION_CHECKPOINTS (development), else the shipped checkpoints/locomotion."""
    return options.locomotion_checkpoints(root)


def has_models(env: str, root=None) -> bool:
    """True when the env's base, expert and reward checkpoints (config.json + model.safetensors) are present."""
    from ..checkpoint import saved_modules_present

    return saved_modules_present(checkpoint_root(root) / env, ("base", "expert", "reward"))


def trained_envs(root=None) -> List[str]:
    return [e for e in ENVS if has_models(e, root)]


def check_env(env) -> str:
    """A known environment name (short name or gymnasium id, any case) -> its short name."""
    name = str(env).strip().lower() if isinstance(env, str) else None
    for key, gym_id in GYM_IDS.items():
        if name in (key, gym_id.lower()):
            return key
    raise ValueError(f"unknown environment {env!r}: choose one of {list(ENVS)}")


def check_trained(env, root=None) -> str:
    env = check_env(env)
    if not has_models(env, root):
        raise FileNotFoundError(f"environment {env!r} is not trained yet (no base/expert/reward checkpoints in "
                                f"{checkpoint_root(root) / env}); trained: {trained_envs(root) or 'none'}. "
                                f"Train it with `{TRAIN_COMMAND.format(env=env)}`")
    return env


def rewards_of(env: str, root=None) -> List[str]:
    """The rewards a trained env can plan with (``models.REWARDS`` names, the paper's first)."""
    from .models import available_rewards

    return available_rewards(env, str(checkpoint_root(root)))


def check_reward(env: str, reward, root=None) -> str:
    """``reward`` when it is a reward name (``models.REWARDS``) that ``env`` has, else an error naming the input,
    the allowed values and (for a missing one) the command that makes it."""
    from .models import check_reward as check_name
    from .models import reward_folder

    name = check_name(reward)
    reward_folder(env, checkpoint_root(root) / env, name)  # FileNotFoundError when the env has no such reward
    return name


def reward_steering(env: str, reward=DEFAULT_REWARD, root=None) -> dict:
    """{"scale", "t_stopgrad"[, "guidance"]}: the steering ``reward`` of ``env`` is meant for, from its config."""
    from .models import steering_defaults

    return steering_defaults(env, str(checkpoint_root(root)), check_reward(env, reward, root))


def get_models(env, reward=DEFAULT_REWARD, root=None, device: Optional[str] = None):
    """The env's models with the reward ``reward`` ("paper" or "onpolicy"), loaded once per process
    (``load_locomotion_models`` caches them)."""
    from .models import load_locomotion_models

    env = check_trained(env, root)
    reward = check_reward(env, reward, root)
    # the loader's cache is keyed by the arguments as given: a root or device only when there is one
    given = {"root": str(root) if root else options.locomotion_checkpoints_override(), "device": device}
    return load_locomotion_models(env, reward=reward, **{k: v for k, v in given.items() if v})


def configured_timesteps(env: str, fallback: int = 20, root=None) -> int:
    """The base planner's diffusion steps T from its config.json (without loading weights), for the slider range."""
    try:
        config = json.loads((checkpoint_root(root) / env / "base" / "config.json").read_text())
        return int(config["config"]["n_timesteps"])
    except (OSError, ValueError, KeyError, TypeError):
        return fallback


def default_steering(reward: str = DEFAULT_REWARD, root=None) -> Dict[str, dict]:
    """{env: {"scale", "t_stopgrad"[, "guidance"]}} of each trained env that has ``reward``: the steering that
    reward is meant for (``models.steering_defaults``), read from the configs without loading a model."""
    return {e: reward_steering(e, reward, root) for e in trained_envs(root) if reward in rewards_of(e, root)}


# ------------------------------------------------------------------ input checks
def _number(value, name: str, allowed: str) -> float:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{name} is missing: enter {allowed}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number, {allowed}, got {value!r}")
    return out


def _integer(value, name: str, low: int, high: int) -> int:
    allowed = f"an integer in {low}..{high}"
    number = _number(value, name, allowed)
    if number != int(number) or not low <= number <= high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(number)


def parse_scale(scale) -> float:
    value = _number(scale, "steering scale", f"a number in 0..{MAX_SCALE:g} (0 = no steering)")
    if not 0 <= value <= MAX_SCALE:
        raise ValueError(f"steering scale must be in 0..{MAX_SCALE:g} (0 = no steering), got {scale!r}")
    return value


def parse_t_stopgrad(t_stopgrad, models) -> int:
    """t_stopgrad in 0..T (T: no guidance), or in 0..K-1 where the reward guides only steps t < K (t_startgrad)."""
    T, K = int(models.n_timesteps), models.t_startgrad
    if K is None:
        return _integer(t_stopgrad, f"t_stopgrad (no guidance at diffusion steps t < t_stopgrad; {T} = none)", 0, T)
    return _integer(t_stopgrad, f"t_stopgrad (no guidance at diffusion steps t < t_stopgrad; this reward guides only "
                                f"steps t < {K}, so a larger t_stopgrad leaves none: use scale 0 for no steering)",
                    0, K - 1)


def parse_steps(steps) -> int:
    return _integer(steps, "episode length (environment steps)", MIN_STEPS, MAX_STEPS)


def parse_seed(seed) -> int:
    return _integer(seed, "seed", 0, MAX_SEED)


# ------------------------------------------------------------------ episodes
@dataclass
class Episode:
    """One executed episode (or the part of it run so far), trimmed to its length."""

    planner: str
    env_rewards: np.ndarray  # (length,)
    learned_rewards: np.ndarray  # (length,); while running, only the steps whose reward window is complete
    ret: float
    score: float
    length: int
    terminated: bool  # ended before the step limit (fell)
    qpos: Optional[np.ndarray] = None  # (states, nq)
    qvel: Optional[np.ndarray] = None

    @property
    def distance(self) -> Optional[float]:
        """Metres travelled forward: the root's x (qpos[0]) at the end minus at the start."""
        if self.qpos is None or len(self.qpos) == 0:
            return None
        return float(self.qpos[-1, 0] - self.qpos[0, 0])

    def summary(self) -> dict:
        finite = self.learned_rewards[np.isfinite(self.learned_rewards)]
        distance = self.distance
        return {"return": round(self.ret, 3), "normalized_score": round(self.score, 2), "length": self.length,
                "fell": self.terminated, "distance": None if distance is None else round(distance, 3),
                "learned_reward_mean": round(float(finite.mean()), 5) if len(finite) else None}

    def curves(self) -> dict:
        """What the plots draw: per-step env and learned rewards (None where not finite) and whether it fell."""
        return {"env_rewards": rounded(self.env_rewards, 4), "learned_rewards": rounded(self.learned_rewards, 5),
                "fell": self.terminated}


def rounded(values, digits: int) -> list:
    return [round(float(v), digits) if math.isfinite(float(v)) else None for v in values]


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


def guidance_settings(models) -> dict:
    """{"guidance"[, "t_startgrad"]}: what of a run's steering comes with the reward rather than the controls."""
    window = {} if models.t_startgrad is None else {"t_startgrad": models.t_startgrad}
    return {"guidance": models.guidance, **window}


def run_pair(models, seed: int, scale: float, t_stopgrad: int, steps: int,
             progress: Optional[Callable[[int, int], None]] = None,
             on_step: Optional[Callable[[int, dict], None]] = None) -> Dict[str, Episode]:
    """The base planner and the reward-steered base planner from the same reset seed, as one batch of two
    episodes (scale 0 and ``scale``, with the guidance and t_startgrad the reward is meant for; the reward is the
    one ``models`` holds, ``get_models(env, reward)``), MuJoCo states recorded.

    ``progress(step, steps)`` is called before every environment step (raise from it to cancel);
    ``on_step`` after every step with the run so far (see ``inference.rollout``)."""
    from . import inference

    batch = inference.rollout(models, [seed, seed], [0.0, float(scale)], [t_stopgrad, t_stopgrad], max_steps=steps,
                              planner="base", record_states=True, progress=progress, generator_seed=seed,
                              guidance=models.guidance, on_step=on_step,
                              t_startgrads=models.t_startgrad)
    return {name: _episode(batch, i, name, steps) for i, name in enumerate(PLANNERS)}


def partial_pair(models, history: dict, lengths: List[int]) -> Dict[str, Episode]:
    """The episodes of a running ``run_pair`` as far as ``lengths`` steps (``inference.rollout``'s ``on_step``
    history). Learned rewards only where the reward's window of executed steps is complete (the final value),
    all of them for an episode that has ended."""
    from .data import normalized_score
    from .inference import learned_window_rewards

    episodes = {}
    for i, name in enumerate(PLANNERS):
        n = lengths[i]
        fell = bool(history["terminated"][i])
        rewards = np.asarray(history["env_rewards"][i][:n], dtype=np.float64)
        observations = np.asarray(history["observations"][i][:n], dtype=np.float32).reshape(n, models.obs_dim)
        actions = np.asarray(history["actions"][i][:n], dtype=np.float32).reshape(n, models.action_dim)
        complete = n if fell else max(0, n - models.horizon + 1)
        learned = learned_window_rewards(models, observations, actions)[:complete] if complete else np.zeros(0)
        qpos = history.get("qpos")
        states = np.asarray(qpos[i][: n + 1], dtype=np.float64) if qpos is not None else None
        ret = float(rewards.sum())
        episodes[name] = Episode(name, rewards, np.asarray(learned, dtype=np.float64), ret,
                                 float(normalized_score(models.env, ret)), n, fell, states)
    return episodes


# ------------------------------------------------------------------ streamed runs
@dataclass
class RunUpdate:
    """What ``stream_pair`` yields: the run so far, or (``videos`` set) all of it."""

    step: int  # environment steps done
    steps: int  # the episode length asked for
    episodes: Dict[str, Episode]
    planning_s: float
    videos: Optional[Dict[str, str]] = None  # {planner: mp4 path}, once rendered
    rendering_s: float = 0.0

    @property
    def finished(self) -> bool:
        return self.videos is not None


class _Stopped(Exception):
    """The stream that started the rollout has been closed."""


def stream_pair(models, seed: int, scale: float, t_stopgrad: int, steps: int, stem: str,
                check: Callable[[], None] = lambda: None,
                progress: Optional[Callable[[str, int, int, str], None]] = None,
                update_every_s: float = UPDATE_EVERY_S, poll_s: float = 0.1) -> Iterator[RunUpdate]:
    """``run_pair`` as a stream: a ``RunUpdate`` of the episodes so far every ``update_every_s`` seconds while
    they run, then the finished episodes (no videos yet), then the same with their videos rendered.

    The rollout runs in a thread of its own (in this context: ``check`` sees the caller's context variables).
    ``check()`` is called before every environment step and video frame, in both threads: raise from it to
    cancel the run; closing the stream stops it too. ``progress(description, done, total, unit)`` is called as
    the run goes; the description ends with an estimate of the time left."""
    from .render import VIEWS, frame_count

    stopped = threading.Event()
    latest: dict = {}
    outcome: dict = {}
    skip = VIEWS[models.env].frame_skip
    frames_total = 2 * frame_count(steps + 1, skip)

    def before_step(step, total):
        if stopped.is_set():
            raise _Stopped()
        check()

    def after_step(done, history):
        latest["state"] = (done, [len(r) for r in history["env_rewards"]], history)

    def work():
        try:
            outcome["episodes"] = run_pair(models, seed, scale, t_stopgrad, steps, before_step, after_step)
        except BaseException as exc:  # handed to the stream, which raises it
            outcome["error"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True,
                              name=f"locomotion-run-{stem}")
    thread.start()
    try:
        shown_step, shown_at = 0, start
        while thread.is_alive():
            thread.join(poll_s)
            check()
            state = latest.get("state")
            if state is None:
                continue
            done, lengths, history = state
            elapsed = time.perf_counter() - start
            if progress is not None:
                left = elapsed / done * (steps - done) + frames_total * RENDER_S_PER_FRAME
                progress(f"planning base + steered, {_time_left(left)}", done, steps, "environment steps")
            if done > shown_step and time.perf_counter() - shown_at >= update_every_s and thread.is_alive():
                yield RunUpdate(done, steps, partial_pair(models, history, lengths), elapsed)
                shown_step, shown_at = done, time.perf_counter()
        if "error" in outcome:
            raise outcome["error"]
        episodes = outcome["episodes"]
        planning = time.perf_counter() - start
        yield RunUpdate(max(e.length for e in episodes.values()), steps, episodes, planning)
        render_start = time.perf_counter()
        frames = sum(frame_count(len(e.qpos), skip) for e in episodes.values())

        def on_frame(done, total, planner):
            check()
            if progress is not None:
                rate = (time.perf_counter() - render_start) / done if done else RENDER_S_PER_FRAME
                progress(f"rendering the {planner} video, {_time_left(rate * (frames - done))}", done, frames,
                         "frames")

        videos = render_videos(models.env, episodes, run_folder(), stem, on_frame)
        yield RunUpdate(max(e.length for e in episodes.values()), steps, episodes, planning, videos,
                        time.perf_counter() - render_start)
    finally:
        stopped.set()


def _time_left(seconds: float) -> str:
    return f"about {max(1, round(seconds))} s left"


# ------------------------------------------------------------------ videos
def run_folder() -> Path:
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
    """{planner: path of ``folder/<stem>_<planner>.mp4``}; ``progress(frames done, frames, planner)`` per frame
    (raise from it to cancel)."""
    from .render import VIEWS, frame_count, render_episode

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


# ------------------------------------------------------------------ the tab's service
@dataclass
class LocomotionDemo:
    """What the Locomotion tab calls, built once (``reward_demo.services.build_services``): the checkpoints it plans
    with, the folder of its precomputed examples (``demo_results``) and the torch device (None: the default). The
    models are loaded once per process (``models.load_locomotion_models`` caches them)."""

    checkpoints: Path = options.LOCOMOTION_CHECKPOINTS
    assets: Path = options.LOCOMOTION_ASSETS
    device: Optional[str] = None

    def trained_envs(self) -> List[str]:
        return trained_envs(self.checkpoints)

    def check_trained(self, env) -> str:
        return check_trained(env, self.checkpoints)

    def rewards_of(self, env: str) -> List[str]:
        return rewards_of(env, self.checkpoints)

    def check_reward(self, env: str, reward) -> str:
        return check_reward(env, reward, self.checkpoints)

    def reward_steering(self, env: str, reward=DEFAULT_REWARD) -> dict:
        return reward_steering(env, reward, self.checkpoints)

    def configured_timesteps(self, env: str, fallback: int = 20) -> int:
        return configured_timesteps(env, fallback, self.checkpoints)

    def get_models(self, env, reward=DEFAULT_REWARD):
        return get_models(env, reward, self.checkpoints, self.device)

    def fresh_settings(self, env, reward=DEFAULT_REWARD) -> dict:
        """The settings of a fresh run of ``env`` steered by ``reward`` as that reward is meant to (models loaded)."""
        models = self.get_models(env, reward)
        return {"seed": DEFAULT_SEED, "scale": float(models.defaults["scale"]),
                "t_stopgrad": int(models.defaults["t_stopgrad"]), "steps": DEFAULT_STEPS, **guidance_settings(models),
                "reward": reward}

    def start_run(self, env, scale, t_stopgrad, seed, steps, reward, check: Callable[[], None] = lambda: None,
                  progress: Optional[Callable[[str, int, int, str], None]] = None) -> tuple:
        """Check a run's inputs (every message names its input), load the models and start ``stream_pair``:
        (env, settings, the stream of ``RunUpdate``s)."""
        env = self.check_trained(env)
        reward = self.check_reward(env, reward)
        scale, steps, seed = parse_scale(scale), parse_steps(steps), parse_seed(seed)
        models = self.get_models(env, reward)
        settings = {"seed": seed, "scale": scale, "t_stopgrad": parse_t_stopgrad(t_stopgrad, models), "steps": steps,
                    **guidance_settings(models), "reward": reward}
        stream = stream_pair(models, seed, scale, settings["t_stopgrad"], steps, f"{env}_seed{seed}", check=check,
                             progress=progress)
        return env, settings, stream

    def load_examples(self) -> dict:
        return load_examples(self.assets)

    def example_run(self, env: str) -> dict:
        return example_run(env, self.assets)

    def default_env(self, trained) -> str:
        return default_env(trained, self.assets)
