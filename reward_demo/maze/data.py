"""Seeded Maze2D datasets generated with PointMaze physics and the waypoint controller.

Kinds
-----
``base`` (exploration): a start and a target are drawn uniformly over free space; the controller
drives the ball to the target; when it is reached (or after ``max_segment_steps``), *both* are
redrawn: the ball is teleported to the new start with zero velocity and heads for the new target.

``expert`` (goal-conditioned, any goal): an episode of ``episode_steps`` steps draws one goal (uniform
over free cells, continuous position within the cell); the target stays fixed at that goal. Whenever
the goal is reached the ball holds it for ``goal_dwell_steps`` more steps (the PD law aims at the goal
itself, so the ball settles there; default 0, no hold), then it is teleported to a fresh random start
(zero velocity) and heads for the same goal again. After ``episode_steps`` steps a new episode starts
with a new goal (and a teleport). The hold is what makes the goal the expert's most visited place, as
for an agent that collects D4RL's sparse reward by staying at the goal; without it a trip ends on
arrival and the goal is visited no more than the corridor leading to it.

"Reached" means the ball centre is within ``reach_radius`` (default 0.3, the reference controller's
solve threshold) of the target. Starts and targets are drawn from the free cells, uniformly over cells
then uniformly within the cell, at least ``wall_margin`` (0.25) from any wall face, and starts at
least ``min_start_distance`` (1.0) from their target. Each new target also draws a waypoint offset
(uniform in [-``waypoint_noise``, ``waypoint_noise``]^2, default 0.2) applied to all intermediate
waypoints, as the reference generator does, so paths do not all run through cell centres.

File format (one ``.npz`` per (maze, kind), written by ``save_dataset``; ``N`` steps)
-------------------------------------------------------------------------------
- ``observations`` (N, 4) float32: ``x, y, vx, vy`` in PointMaze coordinates (1 unit per cell, maze
  centred on the origin; ``x = col - (W-1)/2``, ``y = (H-1)/2 - row``), state *before* the action.
- ``actions``      (N, 2) float32: controller action in [-1, 1] applied at that state.
- ``rewards``      (N,)   float32: D4RL maze2d sparse reward, 1 if ``||xy - goal|| <= 0.5`` else 0.
- ``terminals``    (N,)   bool: True where a segment ends because the target was reached (that
  step's state is within ``reach_radius`` of the goal, after the hold if any; its action is recorded
  but the ball is then teleported instead of stepped), like the reference generator's ``done``.
- ``timeouts``     (N,)   bool: True at the last step of every continuous segment, i.e. before any
  teleport/reset (target reached, step cap, expert episode end, and the final step of the data).
  ``observations[t+1]`` continues ``observations[t]`` physically iff ``timeouts[t]`` is False.
- ``goals``        (N, 2) float32: the target (x, y) in force at that step.
- ``meta``         0-d unicode array holding a JSON object: maze, kind, seed, n_steps, generator
  version, all generation options, dt, and summary statistics. In memory (``generate_dataset``,
  ``load_dataset``) ``data["meta"]`` is a plain dict.

Load with ``load_dataset`` (``np.load(..., allow_pickle=False)``). Windows for diffusion training come
from ``segment_windows`` / ``WindowSampler``, which never cross a ``timeouts`` boundary.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .controller import DEFAULT_KD, DEFAULT_KP, WaypointController
from .layouts import MAZE_NAMES, MazeLayout, get_layout
from .physics import PointMazeSim

GENERATOR_VERSION = "maze-data-2"  # 2: goal_dwell_steps (0 reproduces version 1)
DATASET_KINDS: tuple[str, ...] = ("base", "expert")
ARRAY_KEYS: tuple[str, ...] = ("observations", "actions", "rewards", "terminals", "timeouts", "goals")
SPARSE_REWARD_RADIUS = 0.5  # D4RL maze2d

DEFAULT_OPTIONS: dict[str, Any] = {
    "reach_radius": 0.3,
    "wall_margin": 0.25,
    "min_start_distance": 1.0,
    "waypoint_noise": 0.2,
    "kp": DEFAULT_KP,
    "kd": DEFAULT_KD,
    "max_segment_steps": 2000,
    "episode_steps": 1000,  # expert only
    "goal_dwell_steps": 0,  # expert only
}


def _check_maze_kind(maze: str, kind: str) -> MazeLayout:
    layout = get_layout(maze)
    if kind not in DATASET_KINDS:
        raise ValueError(f"kind must be one of {list(DATASET_KINDS)}, got {kind!r}")
    return layout


class FreeSpaceSampler:
    """Uniform over free cells, then uniform within the cell, at least ``margin`` from any wall face."""

    def __init__(self, layout: MazeLayout, margin: float = 0.25):
        if not 0.0 <= margin < 0.5:
            raise ValueError(f"wall margin must be in [0, 0.5), got {margin}")
        self.layout = layout
        self.margin = float(margin)
        self.cells = layout.free_cells()
        self._walls = []  # per cell: list of (dx, dy) offsets of wall-cell centres in the 3x3 neighbourhood
        for r, c in self.cells:
            w = []
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if (dr or dc) and not layout.is_free(r + dr, c + dc):
                        w.append((float(dc), float(-dr)))
            self._walls.append(w)
        self._centres = [layout.cell_to_xy(r, c) for r, c in self.cells]

    def _ok(self, i: int, dx: float, dy: float) -> bool:
        m = self.margin
        for wx, wy in self._walls[i]:
            ex = abs(dx - wx) - 0.5
            ey = abs(dy - wy) - 0.5
            d = math.hypot(max(ex, 0.0), max(ey, 0.0))
            if d < m:
                return False
        return True

    def sample(self, rng: np.random.Generator, cell_index: int | None = None) -> tuple[float, float]:
        i = int(rng.integers(len(self.cells))) if cell_index is None else int(cell_index)
        cx, cy = self._centres[i]
        for _ in range(1000):
            dx, dy = rng.uniform(-0.5, 0.5, size=2)
            if self._ok(i, dx, dy):
                return cx + float(dx), cy + float(dy)
        raise RuntimeError("rejection sampling failed")  # pragma: no cover (margin < 0.5 always succeeds)

    def sample_away_from(self, rng, point, min_distance: float) -> tuple[float, float]:
        for _ in range(10000):
            x, y = self.sample(rng)
            if math.hypot(x - point[0], y - point[1]) >= min_distance:
                return x, y
        raise RuntimeError(f"could not sample a position {min_distance} away from {point}")  # pragma: no cover


def generate_dataset(
    maze: str,
    kind: str,
    n_steps: int,
    seed: int,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Generate ``n_steps`` steps of ``kind`` ('base' or 'expert') data in ``maze``; deterministic in ``seed``.

    ``options`` override ``DEFAULT_OPTIONS`` (reach_radius, wall_margin, min_start_distance,
    waypoint_noise, kp, kd, max_segment_steps, episode_steps, goal_dwell_steps). Returns the arrays of the module
    docstring plus ``meta`` (a dict).
    """
    layout = _check_maze_kind(maze, kind)
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise ValueError(f"unknown generation options {sorted(unknown)}; allowed: {sorted(DEFAULT_OPTIONS)}")
    opt = {**DEFAULT_OPTIONS, **options}
    reach = float(opt["reach_radius"])
    min_start = float(opt["min_start_distance"])
    wp_noise = float(opt["waypoint_noise"])
    max_seg = int(opt["max_segment_steps"])
    ep_steps = int(opt["episode_steps"])
    dwell = int(opt["goal_dwell_steps"])
    if reach <= 0 or max_seg < 1 or ep_steps < 1 or dwell < 0 or not 0.0 <= wp_noise <= 0.45:
        raise ValueError(
            f"invalid generation options {opt}: need reach_radius > 0, max_segment_steps >= 1, "
            f"episode_steps >= 1, goal_dwell_steps >= 0 and 0 <= waypoint_noise <= 0.45"
        )
    if dwell and kind != "expert":
        raise ValueError(f"goal_dwell_steps applies to expert data only, got {dwell} for kind {kind!r}")

    # independent streams per (maze, kind) for the same user seed
    rng = np.random.default_rng([int(seed), MAZE_NAMES.index(maze), DATASET_KINDS.index(kind)])
    sampler = FreeSpaceSampler(layout, float(opt["wall_margin"]))
    sim = PointMazeSim(maze)
    ctrl = WaypointController(layout, kp=float(opt["kp"]), kd=float(opt["kd"]))

    obs = np.empty((n_steps, 4), dtype=np.float64)
    act = np.empty((n_steps, 2), dtype=np.float64)
    goals = np.empty((n_steps, 2), dtype=np.float64)
    terminals = np.zeros(n_steps, dtype=bool)
    timeouts = np.zeros(n_steps, dtype=bool)

    def new_target(target):
        off = rng.uniform(-wp_noise, wp_noise, size=2) if wp_noise > 0 else (0.0, 0.0)
        ctrl.set_target(target, waypoint_offset=off)

    def new_start(target):
        x, y = sampler.sample_away_from(rng, target, min_start)
        sim.reset(x, y)

    target = sampler.sample(rng)
    new_target(target)
    new_start(target)
    seg_len = 0
    ep_t = 0
    holding = 0  # steps left holding the goal (expert with goal_dwell_steps)
    n_reached = n_capped = n_segments = 0

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, desc=f"{maze}/{kind}", unit="step", mininterval=0.5)
    t0 = time.perf_counter()
    qpos, qvel = sim.data.qpos, sim.data.qvel
    action = ctrl.action
    step = sim.step
    tx, ty = target
    r2 = reach * reach
    is_expert = kind == "expert"
    update_every = 10000
    for t in range(n_steps):
        x, y, vx, vy = qpos[0], qpos[1], qvel[0], qvel[1]
        ax, ay = action(x, y, vx, vy)
        obs[t, 0] = x
        obs[t, 1] = y
        obs[t, 2] = vx
        obs[t, 3] = vy
        act[t, 0] = ax
        act[t, 1] = ay
        goals[t, 0] = tx
        goals[t, 1] = ty
        seg_len += 1
        ep_t += 1
        reached = (x - tx) * (x - tx) + (y - ty) * (y - ty) <= r2
        episode_over = is_expert and ep_t >= ep_steps
        held = holding > 0
        if held:
            holding -= 1
            segment_over = holding == 0 or episode_over
        elif reached and dwell and not episode_over:
            holding = dwell  # arrived: hold the goal before the next start
            segment_over = False
        else:
            segment_over = reached or seg_len >= max_seg or episode_over
        if segment_over:
            timeouts[t] = True
            terminals[t] = reached
            n_segments += 1
            n_reached += int(reached)
            n_capped += int(not reached and not episode_over and not held)
            seg_len = holding = 0
            if not is_expert or episode_over:
                target = sampler.sample(rng)
                tx, ty = target
                ep_t = 0
            new_target(target)  # fresh waypoint offset for the new path (same target for expert)
            new_start(target)
        else:
            step(ax, ay)
        if bar is not None and (t + 1) % update_every == 0:
            bar.update(update_every)
    timeouts[-1] = True
    elapsed = time.perf_counter() - t0
    if bar is not None:
        bar.update(n_steps - bar.n)
        bar.close()

    d = np.linalg.norm(obs[:, :2] - goals, axis=1)
    rewards = (d <= SPARSE_REWARD_RADIUS).astype(np.float32)
    seg_lengths = np.diff(np.concatenate([[-1], np.flatnonzero(timeouts)]))
    meta = {
        "maze": maze,
        "kind": kind,
        "seed": int(seed),
        "n_steps": n_steps,
        "generator_version": GENERATOR_VERSION,
        "options": opt,
        "dt": sim.dt,
        "coordinates": "PointMaze: x = col - (W-1)/2, y = (H-1)/2 - row, 1 unit per cell",
        "stats": {
            "n_segments": int(len(seg_lengths)),
            "n_reached": int(n_reached),
            "n_capped": int(n_capped),
            "segment_length_mean": float(seg_lengths.mean()),
            "segment_length_median": float(np.median(seg_lengths)),
            "segment_length_max": int(seg_lengths.max()),
            "generation_seconds": round(elapsed, 3),
            "steps_per_second": round(n_steps / max(elapsed, 1e-9), 1),
        },
    }
    return {
        "observations": obs.astype(np.float32),
        "actions": act.astype(np.float32),
        "rewards": rewards,
        "terminals": terminals,
        "timeouts": timeouts,
        "goals": goals.astype(np.float32),
        "meta": meta,
    }


# ------------------------------------------------------------------------------ storage
def default_dataset_path(maze: str, kind: str, root: str | os.PathLike = "data") -> Path:
    """``{root}/maze/{maze}_{kind}.npz`` (``data/`` is git-ignored; datasets are generated on demand)."""
    _check_maze_kind(maze, kind)
    return Path(root) / "maze" / f"{maze}_{kind}.npz"


def save_dataset(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write ``data`` (arrays of ``ARRAY_KEYS`` + ``meta`` dict) to ``path`` as an uncompressed ``.npz``."""
    path = Path(path)
    missing = [k for k in ARRAY_KEYS if k not in data]
    if missing:
        raise ValueError(f"dataset is missing keys {missing}; required: {list(ARRAY_KEYS)} (+ meta)")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = data.get("meta", {})
    if not isinstance(meta, str):
        meta = json.dumps(meta)
    arrays = {k: np.asarray(data[k]) for k in ARRAY_KEYS}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, meta=np.array(meta), **arrays)
    os.replace(tmp, path)
    return path


def load_dataset(path: str | os.PathLike) -> dict[str, Any]:
    """Read a dataset written by ``save_dataset`` (no pickles); ``meta`` comes back as a dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Maze2D dataset at {path} (generate it with generate_dataset + save_dataset)")
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ARRAY_KEYS if k not in f.files]
        if missing:
            raise ValueError(f"{path} is not a Maze2D dataset: missing keys {missing}")
        out: dict[str, Any] = {k: f[k] for k in ARRAY_KEYS}
        out["meta"] = json.loads(str(f["meta"])) if "meta" in f.files else {}
    return out


# ------------------------------------------------------------------------------ windows
def segment_bounds(timeouts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the continuous segments: inclusive index ranges cut after every ``timeouts`` True.

    The end of the data always closes a segment.
    """
    timeouts = np.asarray(timeouts, dtype=bool)
    n = len(timeouts)
    ends = np.flatnonzero(timeouts)
    if n and (len(ends) == 0 or ends[-1] != n - 1):
        ends = np.append(ends, n - 1)
    starts = np.concatenate([[0], ends[:-1] + 1]) if len(ends) else np.zeros(0, dtype=np.int64)
    return starts.astype(np.int64), ends.astype(np.int64)


class WindowSampler:
    """Samples fixed-length windows (``horizon`` frames, every ``stride``-th step) inside segments.

    A window starting at step ``s`` covers steps ``s, s + stride, ..., s + (horizon - 1) * stride``
    (``span = (horizon - 1) * stride + 1`` raw steps) and is valid only if all of them lie in the same
    segment (no ``timeouts`` inside except possibly at the last covered step). Starts are drawn
    uniformly over all valid start indices (precomputed once, so sampling is vectorised).

    With ``pad=True`` (the reference implementation's behaviour), a segment shorter than ``span``
    still yields one window, starting at the segment's first step and padded with its last position
    (velocity set to 0: the ball rests at the target).
    """

    def __init__(self, data: dict[str, Any], horizon: int, stride: int = 1, pad: bool = False):
        horizon, stride = int(horizon), int(stride)
        if horizon < 1 or stride < 1:
            raise ValueError(f"horizon and stride must be >= 1, got horizon={horizon}, stride={stride}")
        self.observations = np.asarray(data["observations"])
        self.goals = np.asarray(data["goals"])
        self.horizon, self.stride, self.pad = horizon, stride, bool(pad)
        self.span = (horizon - 1) * stride + 1
        starts, ends = segment_bounds(data["timeouts"])
        seg_id = np.repeat(np.arange(len(starts)), ends - starts + 1)
        self.segment_end = ends[seg_id]  # per step: last index of its segment
        idx = np.arange(len(self.observations))
        valid = self.segment_end - idx + 1 >= self.span
        if self.pad:
            short = ends - starts + 1 < self.span
            valid[starts[short]] = True
        self.valid_starts = np.flatnonzero(valid)
        if len(self.valid_starts) == 0:
            raise ValueError(
                f"no window of horizon={horizon}, stride={stride} (span {self.span} steps) fits in any "
                f"segment (longest segment: {int((ends - starts + 1).max()) if len(ends) else 0} steps); "
                f"use a shorter window or pad=True"
            )

    def __len__(self) -> int:
        return len(self.valid_starts)

    def windows_at(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Windows (n, horizon, 4) and goals (n, 2) for given start indices."""
        starts = np.asarray(starts, dtype=np.int64)
        idx = starts[:, None] + self.stride * np.arange(self.horizon)[None, :]
        end = self.segment_end[starts][:, None]
        over = idx > end
        if over.any() and not self.pad:
            raise ValueError("some windows cross a segment boundary (invalid start indices)")
        win = self.observations[np.minimum(idx, end)]
        if over.any():
            win = win.copy()
            win[..., 2:][over] = 0.0
        return win, self.goals[starts]

    def sample(self, n: int, rng: np.random.Generator, return_starts: bool = False):
        starts = self.valid_starts[rng.integers(0, len(self.valid_starts), size=int(n))]
        win, goals = self.windows_at(starts)
        return (win, goals, starts) if return_starts else (win, goals)


def segment_windows(
    data: dict[str, Any],
    horizon: int,
    stride: int,
    n_windows: int,
    rng: np.random.Generator,
    pad: bool = False,
    return_starts: bool = False,
):
    """Sample ``n_windows`` observation windows that never cross a ``timeouts`` boundary.

    Returns ``(windows (n, horizon, 4) float32, goals (n, 2) float32)`` (+ start indices if
    ``return_starts``); the goal of a window is the target in force at its first step. For repeated
    sampling build a ``WindowSampler`` once and call ``.sample``.
    """
    return WindowSampler(data, horizon, stride, pad).sample(n_windows, rng, return_starts=return_starts)


def main(argv: list[str] | None = None) -> None:
    """``python -m reward_demo.maze.data [--mazes ...] [--kinds ...] [--n-steps N] [--seed S] [--root data]``"""
    import argparse

    p = argparse.ArgumentParser(description="Generate Maze2D base/expert datasets.")
    p.add_argument("--mazes", nargs="+", default=list(MAZE_NAMES), choices=list(MAZE_NAMES))
    p.add_argument("--kinds", nargs="+", default=list(DATASET_KINDS), choices=list(DATASET_KINDS))
    p.add_argument("--n-steps", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default="data")
    a = p.parse_args(argv)
    for maze in a.mazes:
        for kind in a.kinds:
            data = generate_dataset(maze, kind, a.n_steps, a.seed)
            path = save_dataset(default_dataset_path(maze, kind, a.root), data)
            s = data["meta"]["stats"]
            print(f"{path}: {a.n_steps} steps in {s['generation_seconds']} s ({s['steps_per_second']:.0f} steps/s), "
                  f"{s['n_segments']} segments (median length {s['segment_length_median']:.0f}), "
                  f"{s['n_capped']} capped, {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()


#: dataset splits: (seed, env steps); train fits the models, val gives held-out losses, test is for evaluation
SPLITS = {"train": (0, 500_000), "val": (1, 50_000), "test": (2, 100_000)}
#: expert data options: episodes of 400 steps (800 in the large maze, where half of the 400-step trips ended
#: before reaching the goal) in which the ball holds the goal for 100 steps on every arrival (300 in the
#: large maze, where with 100 the learned reward's peak still drifted a corridor away on validation goals),
#: so the goal is the expert's most visited place (see data.py)
EXPERT_DATA_OPTIONS = {"umaze": {"episode_steps": 400, "goal_dwell_steps": 100},
                       "medium": {"episode_steps": 400, "goal_dwell_steps": 100},
                       "large": {"episode_steps": 800, "goal_dwell_steps": 300}}


def maze_dataset(maze: str, kind: str, split: str, root: Path = Path("data"), progress: bool = True) -> dict:
    """Load or generate one split of one (maze, kind) dataset."""
    seed, n_steps = SPLITS[split]
    path = Path(root) / "maze" / f"{maze}_{kind}_{split}.npz"
    options = EXPERT_DATA_OPTIONS[maze] if kind == "expert" else {}
    if path.is_file():
        data = load_dataset(path)
        meta = data["meta"]
        recorded = (meta.get("seed"), meta.get("n_steps"), meta.get("generator_version"))
        if recorded == (seed, n_steps, GENERATOR_VERSION) \
                and all(meta["options"].get(k) == v for k, v in options.items()):
            return data
    data = generate_dataset(maze, kind, n_steps, seed, progress=progress, **options)
    save_dataset(path, data)
    return data
