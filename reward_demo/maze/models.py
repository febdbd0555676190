"""Maze2D models: an unconditional base planner, a goal-conditioned expert planner and a goal-conditioned
per-state relative reward (trained by ``train.py``), as one bundle (``MazeModels``) and its loader.

Trajectories are windows of ``horizon`` observations (x, y, vx, vy) taken every ``stride`` env steps,
normalised by ``MazeNormalizer`` (positions by the maze's half-size, velocities by ``VELOCITY_SCALE``).
The expert and the reward take the normalised goal (x, y) as their conditioning vector, so any free
position can be the goal. The reward reads positions only, one state at a time (window 1), so
r(s, t, goal) is a function over the maze floor: the heatmap.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from ..checkpoint import default_device, from_pretrained
from ..diffusion import GaussianDiffusion
from ..networks import WindowMLPReward
from ..options import MAZE_CHECKPOINTS as CHECKPOINT_ROOT  # noqa: F401  (re-exported)
from ..options import maze_checkpoints
from .layouts import get_layout

VELOCITY_SCALE = 4.0
#: per shipped maze: the diffusion step t at which to read the reward and the steering scale, both chosen
#: on validation goals (never the evaluation goals) by `python -m reward_demo maze evaluate`
#: (assets/maze_eval.json, "t" and "steer_scale")
RECOMMENDED_SETTINGS = {"umaze": {"t": 0, "scale": 50.0}, "medium": {"t": 0, "scale": 5.0},
                        "large": {"t": 0, "scale": 5.0}}



@dataclass(frozen=True)
class MazeNormalizer:
    position_scale: float
    velocity_scale: float = VELOCITY_SCALE

    @classmethod
    def for_maze(cls, maze: str) -> "MazeNormalizer":
        layout = get_layout(maze)
        return cls(position_scale=(max(layout.width, layout.height) - 1) / 2)

    def _scales(self):
        return np.array([self.position_scale] * 2 + [self.velocity_scale] * 2, dtype=np.float32)

    def normalize(self, observations):
        if torch.is_tensor(observations):
            return observations / torch.as_tensor(self._scales())
        return observations / self._scales()

    def unnormalize(self, observations):
        if torch.is_tensor(observations):
            return observations * torch.as_tensor(self._scales(), device=observations.device)
        return observations * self._scales()

    def normalize_goal(self, goal_xy):
        return goal_xy / self.position_scale


@dataclass
class MazeModels:
    """The three trained models of one maze, on one device."""

    maze: str
    base: GaussianDiffusion
    expert: GaussianDiffusion
    reward: WindowMLPReward
    normalizer: MazeNormalizer
    horizon: int
    stride: int

    @property
    def n_timesteps(self) -> int:
        return self.base.n_timesteps

    @property
    def n_reward_timesteps(self) -> int:
        """The steps t < this that the reward was trained on: the heatmap's range of t (steering reads any
        later step at the last of them)."""
        return getattr(self.reward, "t_max", 0) or self.n_timesteps


@functools.lru_cache(maxsize=8)
def load_maze_models(maze: str, root: Optional[str] = None, device: Optional[str] = None) -> MazeModels:
    """Load (once) the base, expert and reward models of a maze from ``root`` (default:
    $REWARD_DEMO_MAZE_CHECKPOINTS, else the shipped ``checkpoints/maze``)."""
    get_layout(maze)
    folder = maze_checkpoints(root) / maze
    if not (folder / "reward" / "model.safetensors").is_file():
        raise FileNotFoundError(f"no trained models for maze {maze!r} in {folder}; "
                                f"train them with: python -m reward_demo maze train --maze {maze}")
    dev = default_device(device)
    base, expert, reward = (from_pretrained(folder / k, dev) for k in ("base", "expert", "reward"))
    meta = reward.metadata
    return MazeModels(maze, base, expert, reward, MazeNormalizer(**meta["normalizer"]),
                      int(meta["args"]["horizon"]), int(meta["args"]["stride"]))
