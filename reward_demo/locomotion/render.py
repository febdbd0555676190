"""Off-screen videos of locomotion episodes (Hopper-v5, HalfCheetah-v5, Walker2d-v5) from recorded MuJoCo states.

An episode is replayed from its recorded ``qpos`` (and ``qvel``) per step: each kept frame sets the state,
runs ``mj_forward`` and renders the scene with MuJoCo's own OpenGL renderer on an EGL context (software
llvmpipe on this machine; ``MUJOCO_GL=egl`` is set here when unset, before anything imports mujoco). Shadows,
reflections, the skybox and multisampling are off: they cost most of the render time and add nothing to
the picture. A free camera looks at the robot from the side and follows the torso along x at a fixed
height (a camera that also followed z would hide the hopping).

Frames go to an h264 (libx264), yuv420p, even-sized mp4 with the moov atom first (``+faststart``), which
browsers and ``gr.Video`` play without re-encoding. The video plays at about real time: fps =
1 / (env dt * frame_skip), rounded.

``python -m reward_demo.locomotion.render --env hopper --steps 200 --out /tmp/hopper.mp4`` renders a
random-action episode and prints the timing.
"""
from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import contextvars  # noqa: E402
import functools  # noqa: E402
import math  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, Iterator, Optional, Tuple, Union  # noqa: E402

import numpy as np  # noqa: E402

#: short env name -> gymnasium id (kept here too so that rendering needs nothing else of the package)
GYM_IDS: Dict[str, str] = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5"}


@dataclass(frozen=True)
class View:
    """Side view of one robot: a free camera at ``distance`` from (torso x, 0, ``lookat_z``)."""

    distance: float
    elevation: float
    lookat_z: float
    frame_skip: int
    """environment steps per video frame (Hopper / Walker2d dt = 8 ms, HalfCheetah dt = 50 ms)"""
    azimuth: float = 90.0  # looking along +y: x (forward) runs left to right


VIEWS: Dict[str, View] = {
    "hopper": View(distance=3.2, elevation=-12.0, lookat_z=0.9, frame_skip=4),
    "walker2d": View(distance=4.0, elevation=-12.0, lookat_z=1.0, frame_skip=4),
    "halfcheetah": View(distance=4.0, elevation=-12.0, lookat_z=0.45, frame_skip=1),
}
DEFAULT_WIDTH, DEFAULT_HEIGHT = 320, 240
#: x264 constant-rate factor: 28 keeps a 320x240 clip of a few hundred frames around 100 kB
CRF = 28


def env_name(env: str) -> str:
    """The short name ('hopper', 'halfcheetah', 'walker2d') of ``env`` (short name or gymnasium id, any case)."""
    name = str(env).strip().lower()
    for key, gym_id in GYM_IDS.items():
        if name in (key, gym_id.lower(), gym_id.lower().split("-")[0]):
            return key
    raise ValueError(f"unknown locomotion environment {env!r}; choose one of "
                     f"{', '.join(f'{k} ({v})' for k, v in GYM_IDS.items())}")


@functools.lru_cache(maxsize=len(GYM_IDS))
def _model_and_dt(env: str):
    """The env's MjModel (exactly the one gymnasium builds, render settings applied) and its step dt."""
    import gymnasium as gym
    import mujoco

    gym_env = gym.make(GYM_IDS[env])
    try:
        model, dt = gym_env.unwrapped.model, float(gym_env.unwrapped.dt)
    finally:
        gym_env.close()
    model.vis.quality.offsamples = 0  # no multisampling
    return model, dt, mujoco


def env_dt(env: str) -> float:
    """Seconds of simulated time per environment step."""
    return _model_and_dt(env_name(env))[1]


def video_fps(env: str, frame_skip: Optional[int] = None) -> int:
    """Playback frames per second for about real time."""
    env = env_name(env)
    skip = VIEWS[env].frame_skip if frame_skip is None else int(frame_skip)
    return max(1, int(round(1.0 / (env_dt(env) * skip))))


def frame_count(n_states: int, frame_skip: int) -> int:
    """Frames rendered from ``n_states`` recorded states: states 0, k, 2k, ... (k = frame_skip)."""
    return int(math.ceil(n_states / frame_skip)) if n_states > 0 else 0


def _check_size(width: int, height: int, model) -> Tuple[int, int]:
    width, height = int(width), int(height)
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"video size must be even and at least 16x16 (h264 yuv420p), got {width}x{height}")
    limit = (model.vis.global_.offwidth, model.vis.global_.offheight)
    if width > limit[0] or height > limit[1]:
        raise ValueError(f"video size {width}x{height} exceeds the model's off-screen buffer {limit[0]}x{limit[1]}")
    return width, height


class _Scene:
    """One EGL context + MuJoCo render context + scene for a model and image size.

    An OpenGL context is current in one thread at a time, so each thread gets its own (``_scene_for``);
    ``render_episode`` renders on a single thread."""

    def __init__(self, env: str, width: int, height: int):
        model, _, mujoco = _model_and_dt(env)
        self.mujoco, self.model, self.width, self.height = mujoco, model, width, height
        self.context = _gl_context(width, height)
        self.context.make_current()
        self.mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self.mjr)
        self.scene = mujoco.MjvScene(model, maxgeom=200)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                     mujoco.mjtRndFlag.mjRND_SKYBOX):
            self.scene.flags[flag] = 0
        self.option = mujoco.MjvOption()
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.data = mujoco.MjData(model)
        self.torso = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "torso")
        self.viewport = mujoco.MjrRect(0, 0, width, height)
        self.pixels = np.empty((height, width, 3), dtype=np.uint8)

    def render(self, qpos: np.ndarray, qvel: Optional[np.ndarray], view: View) -> np.ndarray:
        mujoco, data = self.mujoco, self.data
        data.qpos[:] = qpos
        data.qvel[:] = 0.0 if qvel is None else qvel
        mujoco.mj_forward(self.model, data)
        cam = self.camera
        cam.lookat[:] = (data.xpos[self.torso][0], 0.0, view.lookat_z)
        cam.distance, cam.elevation, cam.azimuth = view.distance, view.elevation, view.azimuth
        self.context.make_current()
        mujoco.mjv_updateScene(self.model, data, self.option, None, cam, mujoco.mjtCatBit.mjCAT_ALL, self.scene)
        mujoco.mjr_render(self.viewport, self.scene, self.mjr)
        mujoco.mjr_readPixels(self.pixels, None, self.viewport, self.mjr)
        return self.pixels[::-1].copy()  # OpenGL rows run bottom-up


def _gl_context(width: int, height: int):
    """An off-screen GL context. EGL unless MUJOCO_GL names another backend; EGL is used even when mujoco was
    imported before MUJOCO_GL was set (its default, GLFW, needs a display this machine does not have)."""
    backend = os.environ.get("MUJOCO_GL", "egl").strip().lower()
    try:
        if backend == "osmesa":
            from mujoco.osmesa import GLContext
        elif backend in ("glfw", "glx"):
            from mujoco.glfw import GLContext
        else:
            from mujoco.egl import GLContext
        return GLContext(width, height)
    except Exception as exc:  # ImportError, RuntimeError from EGL / GLFW
        raise RuntimeError(f"cannot create an off-screen OpenGL context with MUJOCO_GL={backend!r} "
                           f"({type(exc).__name__}: {exc}); use MUJOCO_GL=egl") from exc


_LOCAL = threading.local()


def _scene_for(env: str, width: int, height: int) -> _Scene:
    scenes = _LOCAL.__dict__.setdefault("scenes", {})
    key = (env, width, height)
    if key not in scenes:
        scenes[key] = _Scene(env, width, height)
    return scenes[key]


def render_frames(env: str, qpos, qvel=None, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT,
                  frame_skip: Optional[int] = None) -> Iterator[np.ndarray]:
    """Frames (height, width, 3) uint8 of recorded states ``qpos`` (T, nq) [and ``qvel`` (T, nv)]: every
    ``frame_skip``-th state, starting with the first."""
    env = env_name(env)
    model = _model_and_dt(env)[0]
    width, height = _check_size(width, height, model)
    view = VIEWS[env]
    skip = view.frame_skip if frame_skip is None else int(frame_skip)
    if skip < 1:
        raise ValueError(f"frame_skip must be >= 1, got {frame_skip!r}")
    qpos = np.asarray(qpos, dtype=np.float64)
    if qpos.ndim != 2 or qpos.shape[1] != model.nq:
        raise ValueError(f"qpos must have shape (steps, {model.nq}) for {GYM_IDS[env]}, got {qpos.shape}")
    if qvel is not None:
        qvel = np.asarray(qvel, dtype=np.float64)
        if qvel.shape != (len(qpos), model.nv):
            raise ValueError(f"qvel must have shape ({len(qpos)}, {model.nv}) for {GYM_IDS[env]}, got {qvel.shape}")
    scene = _scene_for(env, width, height)
    for i in range(0, len(qpos), skip):
        yield scene.render(qpos[i], None if qvel is None else qvel[i], view)


def write_mp4(frames, path: Union[str, Path], fps: float, size: Tuple[int, int]) -> Tuple[Path, int]:
    """Encode RGB frames of ``size`` (width, height) to an h264 yuv420p mp4; (path, number of frames)."""
    import imageio_ffmpeg

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.mp4")
    writer = imageio_ffmpeg.write_frames(
        str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=2, ffmpeg_log_level="error",
        output_params=["-preset", "veryfast", "-crf", str(CRF), "-movflags", "+faststart"])
    writer.send(None)
    n = 0
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
            n += 1
    finally:
        writer.close()
    if n == 0:
        tmp.unlink(missing_ok=True)
        raise ValueError("no frames to write: the episode has no recorded states")
    os.replace(tmp, path)  # a complete file or none: the UI may serve the path at once
    return path, n


@dataclass
class RenderResult:
    path: Path
    frames: int
    fps: int
    seconds: float
    """wall-clock seconds spent rendering and encoding"""

    @property
    def render_fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def render_episode(env: str, qpos, qvel=None, path: Union[str, Path] = "episode.mp4", *,
                   width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, frame_skip: Optional[int] = None,
                   fps: Optional[int] = None,
                   progress: Optional[Callable[[int, int], None]] = None) -> RenderResult:
    """Render an episode's recorded states to an h264 mp4 at ``path``.

    ``progress(frame, n_frames)`` is called after each frame (raise from it to cancel). The work runs on one
    process-wide render thread (the caller waits; its context variables go along), so that a server with many
    worker threads keeps one GL context per env instead of one per thread (~0.2 s and some memory each)."""
    call = functools.partial(_render_episode, env, qpos, qvel, path, width=width, height=height,
                             frame_skip=frame_skip, fps=fps, progress=progress)
    if threading.current_thread().name.startswith(_RENDER_THREAD):
        return call()
    return _render_executor().submit(contextvars.copy_context().run, call).result()


_RENDER_THREAD = "mujoco-render"


@functools.lru_cache(maxsize=1)
def _render_executor():
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=_RENDER_THREAD)


def _render_episode(env: str, qpos, qvel, path, *, width: int, height: int, frame_skip: Optional[int],
                    fps: Optional[int], progress: Optional[Callable[[int, int], None]]) -> RenderResult:
    env = env_name(env)
    skip = VIEWS[env].frame_skip if frame_skip is None else int(frame_skip)
    fps = video_fps(env, skip) if fps is None else int(fps)
    n_states = len(np.asarray(qpos))
    total = frame_count(n_states, skip) if skip >= 1 else 0
    start = time.perf_counter()
    frames = render_frames(env, qpos, qvel, width=width, height=height, frame_skip=skip)
    if progress is not None:
        frames = _with_progress(frames, total, progress)
    out, n = write_mp4(frames, path, fps, (int(width), int(height)))
    return RenderResult(out, n, fps, time.perf_counter() - start)


def _with_progress(frames, total: int, progress: Callable[[int, int], None]):
    for i, frame in enumerate(frames, 1):
        yield frame
        progress(i, total)


def random_episode(env: str, steps: int, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(qpos, qvel) of a uniformly random-action episode of exactly ``steps`` steps: the reset state then one
    state per step (``steps`` + 1 states; Hopper and Walker2d go on after a fall). For tests and benchmarks."""
    import gymnasium as gym

    env = env_name(env)
    kwargs = {} if env == "halfcheetah" else {"terminate_when_unhealthy": False}
    gym_env = gym.make(GYM_IDS[env], max_episode_steps=steps + 1, **kwargs)
    try:
        gym_env.reset(seed=seed)
        gym_env.action_space.seed(seed)
        data = gym_env.unwrapped.data
        qpos, qvel = [data.qpos.copy()], [data.qvel.copy()]
        for _ in range(steps):
            _, _, terminated, truncated, _ = gym_env.step(gym_env.action_space.sample())
            qpos.append(data.qpos.copy())
            qvel.append(data.qvel.copy())
            if terminated or truncated:
                break
    finally:
        gym_env.close()
    return np.asarray(qpos), np.asarray(qvel)


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Render a random-action episode and time it.")
    parser.add_argument("--env", default="hopper")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH)
    parser.add_argument("--height", type=int, default=DEFAULT_HEIGHT)
    parser.add_argument("--frame-skip", type=int, default=None)
    parser.add_argument("--out", default="episode.mp4")
    args = parser.parse_args()
    qpos, qvel = random_episode(args.env, args.steps)
    render_episode(args.env, qpos[:2], qvel[:2], Path(args.out).with_suffix(".warmup.mp4"), width=args.width,
                   height=args.height).path.unlink()  # context creation and imports out of the timing
    result = render_episode(args.env, qpos, qvel, args.out, width=args.width, height=args.height,
                            frame_skip=args.frame_skip)
    print(f"{args.env}: {len(qpos)} states -> {result.frames} frames at {args.width}x{args.height}, "
          f"{result.seconds:.2f} s ({result.render_fps:.0f} frames/s incl. encoding), {result.path} "
          f"{result.path.stat().st_size / 1e3:.0f} kB, plays at {result.fps} fps")


if __name__ == "__main__":
    _main()
