"""What the Maze tab runs (``MazeDemo``): each maze's models loaded once, the held-out states of the binned view,
and reward heatmaps for a (goal, t, view), validated and cached, so that a goal the visitor comes back to is
instant; trajectories of the three samplers."""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from ..options import DATA as DATA_ROOT
from ..options import MAZE_CHECKPOINTS, maze_checkpoints
from .inputs import VIEW_DENSE, check_maze, parse_goal, parse_t, parse_view
from .layouts import MAZE_NAMES, get_layout

DENSE_PER_CELL = 10  # dense grid: 10 x 10 points per maze cell
#: binned view: held-out base-data states (test split), a fixed subsample, in 5 x 5 bins per cell
BINNED_STATES = 20_000
BINNED_BINS_PER_CELL = 5
MODELS = ("base", "expert", "reward")


def checkpoint_root() -> Path:
    """$REWARD_DEMO_MAZE_CHECKPOINTS (development) or the shipped checkpoints/maze."""
    return maze_checkpoints()


def has_models(maze: str, root=None) -> bool:
    """True when the maze's base, expert and reward checkpoints (config.json + model.safetensors) are present
    under ``root`` (default: ``checkpoint_root()``)."""
    from ..checkpoint import saved_modules_present

    return saved_modules_present(maze_checkpoints(root) / maze, MODELS)


def is_hit(heatmap) -> bool:
    """Argmax in the goal's cell or one of its neighbours (the evaluation's criterion)."""
    return get_layout(heatmap.maze).is_goal_hit(*heatmap.goal, heatmap.argmax_cell)


def recommended_settings() -> Dict[str, dict]:
    """{maze: {"t", "scale"}}: the heatmap's diffusion step and the steering scale each maze is shown with."""
    from .models import RECOMMENDED_SETTINGS

    return RECOMMENDED_SETTINGS


@dataclass
class MazeDemo:
    """What the Maze tab calls, built once (``reward_demo.services.build_services``): the checkpoints and the data
    folder it reads, the torch device (None: the default), and its caches (held-out states, heatmaps). The models
    are loaded once per process (``models.load_maze_models`` caches them)."""

    checkpoints: Path = MAZE_CHECKPOINTS
    data: Path = DATA_ROOT
    device: Optional[str] = None
    _data_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self):
        # per service: a heatmap belongs to the checkpoints it was computed from (the root is part of the key)
        self._heatmaps = functools.lru_cache(maxsize=256)(self._heatmap)
        self._states = functools.lru_cache(maxsize=len(MAZE_NAMES))(self._binned_states)

    def has_models(self, maze: str) -> bool:
        return has_models(maze, self.checkpoints)

    def default_maze(self) -> str:
        """The first maze whose models are present (else the first maze: the page then shows a clear error)."""
        return next((m for m in MAZE_NAMES if self.has_models(m)), MAZE_NAMES[0])

    def get_models(self, maze: str):
        """The maze's trained models, loaded once per process."""
        from .models import load_maze_models

        check_maze(maze)
        try:
            return load_maze_models(maze, str(self.checkpoints), self.device)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"The models of maze {maze!r} are not available: {exc}") from None

    def n_reward_timesteps(self, maze: str) -> int:
        """The diffusion steps t the maze's reward was trained on (the heatmap's t is below it)."""
        return self.get_models(maze).n_reward_timesteps

    def horizon(self, maze: str) -> int:
        """Positions per sampled trajectory."""
        return self.get_models(maze).horizon

    def binned_states(self, maze: str) -> np.ndarray:
        """Positions (BINNED_STATES, 2) of held-out base-data states (test split), a fixed subsample.

        The split is generated (and cached under data/maze/) on first use, in a few seconds; one thread at a
        time."""
        with self._data_lock:
            return self._states(maze)

    def _binned_states(self, maze: str) -> np.ndarray:
        from .data import maze_dataset

        data = maze_dataset(maze, "base", "test", root=self.data, progress=False)
        xy = np.asarray(data["observations"][:, :2], dtype=np.float32)
        if len(xy) > BINNED_STATES:
            index = np.sort(np.random.default_rng(0).choice(len(xy), BINNED_STATES, replace=False))
            xy = xy[index]
        xy = np.ascontiguousarray(xy)
        xy.setflags(write=False)
        return xy

    def _heatmap(self, root: str, maze: str, goal_row: float, goal_col: float, t: int, view: str):
        from .inference import binned_heatmap, reward_heatmap

        models = self.get_models(maze)
        if view == VIEW_DENSE:
            return reward_heatmap(models, goal_row, goal_col, t, per_cell=DENSE_PER_CELL)
        return binned_heatmap(models, self.binned_states(maze), goal_row, goal_col, t,
                              bins_per_cell=BINNED_BINS_PER_CELL)

    def compute_heatmap(self, maze, goal_row, goal_col, t, view):
        """Validate the inputs, then the (cached) Heatmap."""
        maze = check_maze(maze)
        view = parse_view(view)
        row, col = parse_goal(maze, goal_row, goal_col)
        t = parse_t(t, self.n_reward_timesteps(maze), maze)
        return self._heatmaps(str(self.checkpoints), maze, row, col, t, view)

    def sample_trajectories(self, maze: str, sampler: str, goal_row: float, goal_col: float, n: int, scale: float,
                            seed: int) -> np.ndarray:
        """(n, horizon, 2) PointMaze positions from ``sampler`` (base, expert or steered) for the goal."""
        from .inference import sample_trajectories

        return np.asarray(sample_trajectories(self.get_models(maze), sampler, goal_row, goal_col, n=n, scale=scale,
                                              seed=seed), dtype=np.float64)
