"""What the Maze tab, the CLI and the evaluation ask of the trained models: reward heatmaps for a goal
and sampled trajectories (base, expert, reward-steered base); the ``maze heatmap`` command."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Tuple

import numpy as np
import torch

from ..options import MazeCheckpointsOption
from ..steering import steered_sample
from .inputs import SAMPLERS
from .layouts import MazeLayout, get_layout, validate_goal_position
from .models import MazeModels, load_maze_models


@dataclass
class Heatmap:
    """Reward over the maze floor for one goal: ``values[i, j]`` at (``ys[i]``, ``xs[j]``), NaN on walls."""

    maze: str
    goal: Tuple[float, float]
    """goal as (row, col) in the maze grid"""
    t: int
    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    argmax_cell: Tuple[int, int]
    argmax_xy: Tuple[float, float]

    def to_json(self) -> dict:
        grid = [[None if np.isnan(v) else round(float(v), 6) for v in row] for row in self.values]
        return {"maze": self.maze, "goal": list(self.goal), "t": self.t, "grid": grid,
                "xs": [round(float(x), 6) for x in self.xs], "ys": [round(float(y), 6) for y in self.ys],
                "argmax_cell": list(self.argmax_cell), "argmax_xy": [round(v, 6) for v in self.argmax_xy]}


def check_timestep(t, n_timesteps: int) -> int:
    try:
        value = int(t)
    except (TypeError, ValueError):
        raise ValueError(f"t must be an integer diffusion step in 0..{n_timesteps - 1}, got {t!r}") from None
    if value != t or not 0 <= value < n_timesteps:
        raise ValueError(f"t must be an integer diffusion step in 0..{n_timesteps - 1}, got {t!r}")
    return value


def goal_xy(layout: MazeLayout, goal_row: float, goal_col: float) -> Tuple[float, float]:
    """Validate a (row, col) goal and return its PointMaze (x, y)."""
    row, col = validate_goal_position(layout, goal_row, goal_col)
    return layout.cell_to_xy(row, col)


def floor_grid(layout: MazeLayout, per_cell: int):
    """Cell-centred sample positions, ``per_cell`` per cell side: (xs, ys, free mask (len(ys), len(xs)))."""
    offsets = (np.arange(per_cell) + 0.5) / per_cell - 0.5
    xs = (np.arange(layout.width)[:, None] - (layout.width - 1) / 2 + offsets[None, :]).ravel()
    ys = ((layout.height - 1) / 2 - np.arange(layout.height)[:, None] - offsets[None, :]).ravel()
    xx, yy = np.meshgrid(xs, ys)
    free = layout.is_free_xy(np.stack([xx, yy], axis=-1))
    return xs, ys, free


@torch.no_grad()
def state_rewards(models: MazeModels, xy: np.ndarray, goal: Tuple[float, float], t: int) -> np.ndarray:
    """Per-state reward r(s, t, goal) of PointMaze positions ``xy`` (n, 2)."""
    reward = models.reward
    device = next(reward.parameters()).device
    norm = models.normalizer
    # all states as the windows of one sequence: the (t, goal) embedding is then computed once, not per state
    states = np.zeros((1, len(xy), 4), dtype=np.float32)
    states[0, :, :2] = np.asarray(xy, dtype=np.float32) / norm.position_scale
    states = torch.from_numpy(states).to(device)
    cond = torch.tensor(norm.normalize_goal(np.asarray(goal, dtype=np.float32)), device=device)[None]
    tt = torch.full((1,), t, dtype=torch.long, device=device)
    return reward.window_rewards(states, tt, cond)[0].cpu().numpy()


def reward_heatmap(models: MazeModels, goal_row: float, goal_col: float, t: int = 0, per_cell: int = 10) -> Heatmap:
    """Dense heatmap of the learned reward for a goal given as (row, col) of the maze grid."""
    layout = get_layout(models.maze)
    t = check_timestep(t, models.n_reward_timesteps)
    goal = goal_xy(layout, goal_row, goal_col)
    xs, ys, free = floor_grid(layout, per_cell)
    xx, yy = np.meshgrid(xs, ys)
    values = np.full(free.shape, np.nan)
    values[free] = state_rewards(models, np.stack([xx[free], yy[free]], axis=-1), goal, t)
    i, j = np.unravel_index(np.nanargmax(values), values.shape)
    argmax_xy = (float(xs[j]), float(ys[i]))
    return Heatmap(models.maze, (float(goal_row), float(goal_col)), t, xs, ys, values,
                   tuple(int(v) for v in layout.xy_to_cell(*argmax_xy)), argmax_xy)


def binned_heatmap(models: MazeModels, states_xy: np.ndarray, goal_row: float, goal_col: float, t: int = 0,
                   bins_per_cell: int = 10, min_count: int = 5, winsor: float = 0.005) -> Heatmap:
    """The paper's view: reward of data states, averaged in bins (``bins_per_cell`` per cell side), bins
    with fewer than ``min_count`` states masked, winsorised at ``winsor`` and min-max scaled to [0, 1]."""
    layout = get_layout(models.maze)
    t = check_timestep(t, models.n_reward_timesteps)
    goal = goal_xy(layout, goal_row, goal_col)
    values = state_rewards(models, states_xy, goal, t)
    lo, hi = np.quantile(values, [winsor, 1 - winsor])
    values = np.clip(values, lo, hi)
    xs, ys, _ = floor_grid(layout, bins_per_cell)
    col = np.clip(((states_xy[:, 0] + layout.width / 2) * bins_per_cell).astype(int), 0, len(xs) - 1)
    row = np.clip(((layout.height / 2 - states_xy[:, 1]) * bins_per_cell).astype(int), 0, len(ys) - 1)
    sums = np.zeros((len(ys), len(xs)))
    counts = np.zeros_like(sums)
    np.add.at(sums, (row, col), values)
    np.add.at(counts, (row, col), 1)
    grid = np.where(counts >= min_count, sums / np.maximum(counts, 1), np.nan)
    if np.all(np.isnan(grid)):
        raise ValueError(f"no bin holds {min_count} or more states: pass more states")
    grid = (grid - np.nanmin(grid)) / max(np.nanmax(grid) - np.nanmin(grid), 1e-12)
    i, j = np.unravel_index(np.nanargmax(grid), grid.shape)
    argmax_xy = (float(xs[j]), float(ys[i]))
    return Heatmap(models.maze, (float(goal_row), float(goal_col)), t, xs, ys, grid,
                   tuple(int(v) for v in layout.xy_to_cell(*argmax_xy)), argmax_xy)


def sample_trajectories(models: MazeModels, sampler: Literal["base", "expert", "steered"], goal_row: float,
                        goal_col: float, n: int = 8, scale: float = 1.0, t_stopgrad: int = 0,
                        seed: int = 0) -> np.ndarray:
    """``n`` trajectories (n, horizon, 2) of PointMaze positions from one of the three samplers.

    ``base`` ignores the goal, ``expert`` is conditioned on it, ``steered`` is the base model guided by the
    learned reward for that goal with step ``scale`` (the same seed gives the same noise in all three).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if not 1 <= int(n) <= 64:
        raise ValueError(f"n (number of trajectories) must be in 1..64, got {n!r}")
    layout = get_layout(models.maze)
    goal = goal_xy(layout, goal_row, goal_col)
    device = models.base.betas.device
    goal_normalized = models.normalizer.normalize_goal(np.asarray(goal, dtype=np.float32))
    cond = torch.tensor(goal_normalized, device=device).expand(int(n), 2)
    generator = torch.Generator(device=device).manual_seed(int(seed))
    if sampler == "base":
        x = models.base.sample(int(n), generator=generator).x
    elif sampler == "expert":
        x = models.expert.sample(int(n), cond=cond, generator=generator).x
    else:
        x = steered_sample(models.base, models.reward, int(n), scale=float(scale), t_stopgrad=int(t_stopgrad),
                           reward_cond=cond, generator=generator).x
    return models.normalizer.unnormalize(x).cpu().numpy()[..., :2]


@dataclass
class HeatmapArgs(MazeCheckpointsOption):
    """Write the learned reward heatmap of one goal as JSON {maze, goal, t, grid, argmax_cell}."""

    maze: str
    """umaze, medium or large"""
    goal: Tuple[float, float]
    """goal cell as ROW COL of the maze grid (row 0 at the top)"""
    json: Path
    """output JSON file"""
    t: int = 0
    """diffusion step at which the reward is evaluated"""
    per_cell: int = 10
    """grid points per cell side"""


def heatmap_command(args: HeatmapArgs):
    if not 1 <= args.per_cell <= 40:
        raise ValueError(f"per_cell must be in 1..40, got {args.per_cell}")
    models = load_maze_models(args.maze, str(args.checkpoints) if args.checkpoints else None)
    result = reward_heatmap(models, args.goal[0], args.goal[1], args.t, args.per_cell)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result.to_json()))
    print(f"{args.maze} goal {tuple(args.goal)} t={result.t}: argmax cell {result.argmax_cell}; wrote {args.json}")
