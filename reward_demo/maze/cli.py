"""``python -m reward_demo maze <command>``: the Maze2D domain's command table (each command's options and
function live with its work: models.py trains, inference.py draws heatmaps, evaluate.py evaluates)."""
from __future__ import annotations

from .evaluate import MazeEvaluateArgs, evaluate_command
from .inference import HeatmapArgs, heatmap_command
from .train import MazeTrainArgs, train_command

COMMANDS = {"train": (MazeTrainArgs, train_command), "heatmap": (HeatmapArgs, heatmap_command),
            "evaluate": (MazeEvaluateArgs, evaluate_command)}
