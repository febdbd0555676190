"""``python -m reward_demo maze <command>``: the Maze2D domain's commands."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from .evaluate import MazeEvaluateArgs, evaluate_command
from .models import MazeTrainArgs, train_command


@dataclass
class HeatmapArgs:
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
    checkpoints: Optional[Path] = None
    """checkpoint root (default: the shipped checkpoints/maze)"""


def heatmap_command(args: HeatmapArgs):
    from .inference import reward_heatmap
    from .models import load_maze_models

    if not 1 <= args.per_cell <= 40:
        raise ValueError(f"per_cell must be in 1..40, got {args.per_cell}")
    models = load_maze_models(args.maze, str(args.checkpoints) if args.checkpoints else None)
    result = reward_heatmap(models, args.goal[0], args.goal[1], args.t, args.per_cell)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result.to_json()))
    print(f"{args.maze} goal {tuple(args.goal)} t={result.t}: argmax cell {result.argmax_cell}; wrote {args.json}")


COMMANDS = {"train": (MazeTrainArgs, train_command), "heatmap": (HeatmapArgs, heatmap_command),
            "evaluate": (MazeEvaluateArgs, evaluate_command)}
