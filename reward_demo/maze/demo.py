"""What the Maze tab runs: each maze's models loaded once, the held-out states of the binned view, and reward
heatmaps for a (goal, t, view), validated and cached, so that a goal the visitor comes back to is instant."""
from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from ..options import DATA as DATA_ROOT
from ..options import maze_checkpoints
from .inputs import VIEW_DENSE, check_maze, parse_goal, parse_t, parse_view
from .layouts import MAZE_NAMES, get_layout

DENSE_PER_CELL = 10  # dense grid: 10 x 10 points per maze cell
#: binned view: held-out base-data states (test split), a fixed subsample, in 5 x 5 bins per cell
BINNED_STATES = 20_000
BINNED_BINS_PER_CELL = 5


def checkpoint_root() -> Path:
    """$REWARD_DEMO_MAZE_CHECKPOINTS (development) or the shipped checkpoints/maze."""
    return maze_checkpoints()


def has_models(maze: str) -> bool:
    """True when the maze's base, expert and reward checkpoints (config.json + model.safetensors) are present."""
    from ..checkpoint import saved_modules_present

    return saved_modules_present(checkpoint_root() / maze, ("base", "expert", "reward"))


def get_models(maze: str):
    """The maze's trained models, loaded once per process (``load_maze_models`` caches them)."""
    from .models import load_maze_models

    check_maze(maze)
    try:
        return load_maze_models(maze)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"The models of maze {maze!r} are not available: {exc}") from None


_DATA_LOCK = threading.Lock()


def binned_states(maze: str) -> np.ndarray:
    """Positions (BINNED_STATES, 2) of held-out base-data states (test split), a fixed subsample.

    The split is generated (and cached under data/maze/) on first use, in a few seconds; one thread at a time."""
    with _DATA_LOCK:
        return _binned_states(maze)


@functools.lru_cache(maxsize=len(MAZE_NAMES))
def _binned_states(maze: str) -> np.ndarray:
    from .models import maze_dataset

    data = maze_dataset(maze, "base", "test", root=DATA_ROOT, progress=False)
    xy = np.asarray(data["observations"][:, :2], dtype=np.float32)
    if len(xy) > BINNED_STATES:
        index = np.sort(np.random.default_rng(0).choice(len(xy), BINNED_STATES, replace=False))
        xy = xy[index]
    xy = np.ascontiguousarray(xy)
    xy.setflags(write=False)
    return xy


@functools.lru_cache(maxsize=256)
def _cached_heatmap(maze: str, goal_row: float, goal_col: float, t: int, view: str):
    from .inference import binned_heatmap, reward_heatmap

    models = get_models(maze)
    if view == VIEW_DENSE:
        return reward_heatmap(models, goal_row, goal_col, t, per_cell=DENSE_PER_CELL)
    return binned_heatmap(models, binned_states(maze), goal_row, goal_col, t, bins_per_cell=BINNED_BINS_PER_CELL)


def compute_heatmap(maze, goal_row, goal_col, t, view):
    """Validate the inputs, then the (cached) Heatmap."""
    maze = check_maze(maze)
    view = parse_view(view)
    row, col = parse_goal(maze, goal_row, goal_col)
    models = get_models(maze)
    t = parse_t(t, models.n_reward_timesteps, maze)
    return _cached_heatmap(maze, row, col, t, view)


def is_hit(heatmap) -> bool:
    """Argmax in the goal's cell or one of its neighbours (the evaluation's criterion)."""
    return get_layout(heatmap.maze).is_goal_hit(*heatmap.goal, heatmap.argmax_cell)
