"""Integration tests on the shipped Maze2D checkpoints: they load, and the learned reward still does its
job (it peaks at the goal); the CLI writes the documented JSON and rejects bad input clearly."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reward_demo.maze.inference import reward_heatmap, sample_trajectories
from reward_demo.maze.layouts import MAZE_NAMES, get_layout, reference_goals
from reward_demo.maze.models import CHECKPOINT_ROOT, RECOMMENDED_SETTINGS, load_maze_models

ROOT = Path(__file__).resolve().parents[1]
# per maze: reference goals whose heatmap argmax must lie in the goal cell or a 4-neighbour (of 8), at
# the recommended t; one under what `python -m reward_demo maze evaluate` measured (8, 8, 8; README).
# A reward that ignored its goal would hit about 3/8 in umaze and under 1/8 in medium and large.
MIN_REFERENCE_HITS = {"umaze": 7, "medium": 7, "large": 7}


def shipped(maze):
    return (CHECKPOINT_ROOT / maze / "reward" / "model.safetensors").is_file()


@pytest.mark.parametrize("maze", MAZE_NAMES)
def test_reward_peaks_at_reference_goals(maze):
    assert shipped(maze), f"checkpoints for {maze} are missing from {CHECKPOINT_ROOT}"
    models = load_maze_models(maze, device="cpu")
    layout = get_layout(maze)
    hits = 0
    for row, col in reference_goals(maze):
        heat = reward_heatmap(models, row, col, t=RECOMMENDED_SETTINGS[maze]["t"])
        goal_cell = layout.xy_to_cell(*layout.cell_to_xy(row, col))
        hits += layout.shortest_path_distances(goal_cell)[heat.argmax_cell] <= 1
        assert np.isnan(heat.values).sum() > 0, "walls must be masked"
    assert hits >= MIN_REFERENCE_HITS[maze], f"{maze}: only {hits}/8 reference goals hit"


def test_samplers_return_positions_inside_the_maze_box():
    models = load_maze_models("umaze", device="cpu")
    layout = get_layout("umaze")
    for sampler in ("base", "expert", "steered"):
        xy = sample_trajectories(models, sampler, 1, 1, n=2, seed=0)
        assert xy.shape == (2, models.horizon, 2)
        assert np.all(np.abs(xy[..., 0]) < layout.width / 2 + 0.5)
        assert np.all(np.abs(xy[..., 1]) < layout.height / 2 + 0.5)
    with pytest.raises(ValueError, match="sampler"):
        sample_trajectories(models, "nope", 1, 1)


@pytest.mark.parametrize("goal,t,message", [((2, 2), 0, "wall"), ((1, 9), 0, "outside"), ((1, 1), 999, "t must be")])
def test_heatmap_rejects_bad_input(goal, t, message):
    models = load_maze_models("umaze", device="cpu")
    with pytest.raises(ValueError, match=message):
        reward_heatmap(models, *goal, t=t)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "reward_demo", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_cli_heatmap_writes_json(tmp_path):
    out = tmp_path / "h.json"
    result = run_cli("maze", "heatmap", "--maze", "medium", "--goal", "6", "6", "--t", "0", "--json", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert {"maze", "goal", "t", "grid", "argmax_cell"} <= set(data)
    assert data["maze"] == "medium" and data["goal"] == [6, 6] and data["t"] == 0
    layout = get_layout("medium")
    assert len(data["grid"]) == layout.height * 10 and len(data["grid"][0]) == layout.width * 10
    assert layout.is_free(*data["argmax_cell"])


@pytest.mark.parametrize("args,message", [
    (("--maze", "nope", "--goal", "1", "1"), "maze must be one of"),
    (("--maze", "umaze", "--goal", "2", "2"), "wall"),
    (("--maze", "umaze", "--goal", "1", "1", "--t", "-1"), "t must be"),
])
def test_cli_heatmap_bad_input_is_a_clear_message(tmp_path, args, message):
    result = run_cli("maze", "heatmap", *args, "--json", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_reward_trained_on_early_steps_limits_the_heatmap_range_not_steering():
    import dataclasses

    from reward_demo.networks import WindowMLPReward

    real = load_maze_models("umaze", device="cpu")
    reward = WindowMLPReward(real.horizon, 4, input_columns=[0, 1], hidden=16, cond_dim=2, t_max=3)
    models = dataclasses.replace(real, reward=reward)
    assert real.n_reward_timesteps == real.n_timesteps and models.n_reward_timesteps == 3
    assert reward_heatmap(models, 1, 1, t=2).t == 2
    with pytest.raises(ValueError, match=r"t must be an integer diffusion step in 0\.\.2"):
        reward_heatmap(models, 1, 1, t=3)
    steered = sample_trajectories(models, "steered", 1, 1, n=2, scale=5.0, seed=0)
    unguided = sample_trajectories(models, "steered", 1, 1, n=2, scale=0.0, seed=0)
    assert steered.shape == unguided.shape and not np.allclose(steered, unguided)


def test_reproduce_command_parses_back_to_the_same_arguments():
    import tyro

    from reward_demo.maze.train import MazeTrainArgs, reproduce_command

    args = MazeTrainArgs(maze="large", reward_steps=123, reward_normalize_per_t=True, expert_dim=32, reward_max_t=8,
                         reward_base_goals="uniform")
    command = reproduce_command(args)
    assert command.startswith("python -m reward_demo maze train --maze large")
    assert "--reward-normalize-per-t" in command and "--reward-max-t 8" in command
    parsed = tyro.cli(MazeTrainArgs, args=command.split()[5:])
    assert parsed == args


def test_train_rejects_unknown_base_goal_source_before_any_work(tmp_path):
    from reward_demo.maze.train import MazeTrainArgs, train_command

    with pytest.raises(ValueError, match="--reward-base-goals must be 'expert' or 'uniform'"):
        train_command(MazeTrainArgs(maze="umaze", out=tmp_path, data_root=tmp_path, reward_base_goals="random"))
    assert not any(tmp_path.iterdir())
