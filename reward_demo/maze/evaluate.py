"""Held-out evaluation of the Maze2D relative rewards (``python -m reward_demo maze evaluate``).

Per maze, on goals = the 8 reference goals + ``n_random_goals`` free cells drawn at random:
- hit: the argmax of the dense reward heatmap lies in the goal's cell or a 4-neighbour of it;
- Spearman correlation between the reward of held-out base-data states (the ``test`` split, never
  used for training) and minus their geodesic distance to the goal (nearer = better);
- steering: mean final geodesic distance to the goal of base samples, unguided vs reward-guided
  (same noise), and of the goal-conditioned expert for reference.
Per maze, once: AUROC of the trajectory reward (mean per-state reward) at telling held-out expert trips
(scored with their own goals) from held-out base trips (scored with goals drawn alike).
The diffusion step t at which the reward is read and the steering scale are chosen per maze on separate
validation goals (random positions off the cell centres, another seed), never on the evaluation goals.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Tuple

import numpy as np
import torch
from scipy.stats import spearmanr

from ..metrics import auroc
from ..options import MazeCheckpointsOption
from .data import maze_dataset, segment_bounds
from .inference import floor_grid, reward_heatmap, sample_trajectories, state_rewards
from .layouts import HIT_HOPS, MAZE_NAMES, get_layout, reference_goals
from .models import MazeModels, load_maze_models


@dataclass
class MazeEvaluateArgs(MazeCheckpointsOption):
    """Held-out evaluation of the maze rewards: goal hit rate, Spearman, AUROC, steering; JSON + figure."""

    mazes: Tuple[str, ...] = MAZE_NAMES
    """mazes to evaluate"""
    n_random_goals: int = 8
    """goals drawn at random among free cells, besides the 8 reference goals"""
    timesteps: Tuple[int, ...] = (0, 1, 2, 3, 5, 7, 10, 15)
    """candidate diffusion steps for reading the reward; one is chosen per maze on validation goals (among those
    the reward was trained on)"""
    steer_scales: Tuple[float, ...] = (1.0, 5.0, 20.0, 50.0)
    """candidate steering scales; one is chosen per maze on validation goals"""
    n_validation_goals: int = 8
    """random goal positions (not cell centres, other seed) used only to choose t and the scale"""
    n_states: int = 3000
    """held-out base states per goal for the Spearman correlation"""
    n_segments: int = 1000
    """held-out trajectories (segments) per kind for the AUROC"""
    n_trajectories: int = 16
    """samples per goal and sampler for the steering check"""
    seed: int = 0
    """seed of the random goals and of the samplers"""
    json: Path = Path("runs/maze_eval.json")
    """report file"""
    figure: Path = Path("runs/maze_eval.png")
    """figure of the reference goals' heatmaps"""


def evaluation_goals(maze: str, n_random: int, seed: int):
    """[(row, col, source)]: the reference goals, then ``n_random`` distinct random free cells."""
    layout = get_layout(maze)
    goals = [(float(r), float(c), "reference") for r, c in reference_goals(maze)]
    cells = layout.free_cells()
    pick = np.random.default_rng(seed).choice(len(cells), size=min(n_random, len(cells)), replace=False)
    return goals + [(float(cells[i][0]), float(cells[i][1]), "random") for i in pick]


def final_distances(layout, trajectories: np.ndarray, goal) -> np.ndarray:
    """Geodesic distance of each trajectory's last position to the goal. A sample may end inside a wall
    (the planner is not constrained by walls): it is charged the distance from the nearest free floor
    point plus the straight gap to it."""
    ends = trajectories[:, -1]
    distances = layout.continuous_distance_to_goal(ends, goal)
    stuck = ~np.isfinite(distances)
    if stuck.any():
        xs, ys, free = floor_grid(layout, 10)
        xx, yy = np.meshgrid(xs, ys)
        floor = np.stack([xx[free], yy[free]], axis=-1)
        gaps = np.linalg.norm(ends[stuck, None, :] - floor[None], axis=-1)
        nearest = gaps.argmin(axis=1)
        distances[stuck] = (layout.continuous_distance_to_goal(floor[nearest], goal)
                            + gaps[np.arange(len(nearest)), nearest])
    return distances


def segment_scores(models: MazeModels, data: dict, segments: np.ndarray, goals: np.ndarray, t: int) -> np.ndarray:
    """Per held-out segment (one trip; every 3rd state, as the models see trajectories), scored against
    ``goals[i]``: (mean per-state reward, reward gain from the first to the last state), shape (n, 2)."""
    starts, ends = segment_bounds(data["timeouts"])
    out = []
    for i, goal in zip(segments, goals):
        rewards = state_rewards(models, data["observations"][starts[i]: ends[i] + 1: 3, :2], tuple(goal), t)
        out.append((rewards.mean(), rewards[-1] - rewards[0]))
    return np.array(out)


def trajectory_auroc(models: MazeModels, args: MazeEvaluateArgs, t: int) -> dict:
    """AUROC of two trajectory scores at telling held-out expert trips (scored with their own goal) from
    held-out base trips (scored with goals drawn like the expert's): the mean reward (the paper's
    trajectory reward) and the reward gain along the trip (the reward used as a potential)."""
    expert = maze_dataset(models.maze, "expert", "test", progress=False)
    base = maze_dataset(models.maze, "base", "test", progress=False)
    rng = np.random.default_rng(args.seed + 5)
    expert_starts, _ = segment_bounds(expert["timeouts"])
    n_base = len(segment_bounds(base["timeouts"])[0])
    expert_pick = rng.choice(len(expert_starts), size=min(args.n_segments, len(expert_starts)), replace=False)
    base_pick = rng.choice(n_base, size=min(args.n_segments, n_base), replace=False)
    base_goals = expert["goals"][expert_starts[rng.choice(len(expert_starts), size=len(base_pick))]]
    own = segment_scores(models, expert, expert_pick, expert["goals"][expert_starts[expert_pick]], t)
    other = segment_scores(models, base, base_pick, base_goals, t)
    return {"mean_reward": auroc(own[:, 0], other[:, 0]), "reward_gain": auroc(own[:, 1], other[:, 1])}


def validation_goals(maze: str, n: int, seed: int):
    """Random continuous goal positions (row, col) inside free cells, off the cell centres."""
    layout = get_layout(maze)
    cells = layout.free_cells()
    rng = np.random.default_rng(seed + 1000)
    out = []
    for _ in range(n):
        r, c = cells[rng.integers(len(cells))]
        out.append((r + rng.uniform(-0.3, 0.3), c + rng.uniform(-0.3, 0.3)))
    return out


def choose_settings(models: MazeModels, args: MazeEvaluateArgs):
    """(t, scale): the step with the best validation hit rate (ties: smaller mean hops, then smaller t), and
    the scale with the smallest mean final distance to the validation goals."""
    layout = get_layout(models.maze)
    goals = validation_goals(models.maze, args.n_validation_goals, args.seed)
    best_t = None
    candidates = [t for t in args.timesteps if t < models.n_reward_timesteps]
    if not candidates:
        raise ValueError(f"--timesteps: none of {args.timesteps} is below {models.n_reward_timesteps}, the steps the "
                         f"{models.maze} reward was trained on")
    for t in candidates:
        hops = [layout.goal_hops(r, c, reward_heatmap(models, r, c, t).argmax_cell) for r, c in goals]
        key = (-np.mean(np.array(hops) <= HIT_HOPS), float(np.mean(hops)), t)
        best_t = min(best_t, key) if best_t else key
    best_scale = None
    for scale in args.steer_scales:
        dist = np.mean([final_distances(layout, sample_trajectories(models, "steered", r, c, args.n_trajectories,
                                                                    scale=scale, seed=args.seed + 50 + k),
                                        layout.cell_to_xy(r, c)).mean() for k, (r, c) in enumerate(goals)])
        best_scale = min(best_scale, (dist, scale)) if best_scale else (dist, scale)
    return best_t[2], best_scale[1]


def evaluate_maze(maze: str, args: MazeEvaluateArgs) -> dict:
    models = load_maze_models(maze, str(args.checkpoints) if args.checkpoints else None, "cpu")
    layout = get_layout(maze)
    t, scale = choose_settings(models, args)
    print(f"  {maze}: chose t={t}, steering scale={scale:g} on validation goals", flush=True)
    states = maze_dataset(maze, "base", "test", progress=False)["observations"][:, :2]
    states = states[np.random.default_rng(args.seed).choice(len(states), args.n_states, replace=False)]
    rows = []
    for k, (row, col, source) in enumerate(evaluation_goals(maze, args.n_random_goals, args.seed)):
        heat = reward_heatmap(models, row, col, t)
        hops = layout.goal_hops(row, col, heat.argmax_cell)
        goal = layout.cell_to_xy(row, col)
        rewards = state_rewards(models, states, goal, t)
        distances = layout.continuous_distance_to_goal(states, goal)
        finite = np.isfinite(distances)
        rho = spearmanr(rewards[finite], -distances[finite]).statistic
        seed = args.seed + 100 + k
        unguided = sample_trajectories(models, "base", row, col, args.n_trajectories, seed=seed)
        steered = sample_trajectories(models, "steered", row, col, args.n_trajectories, scale=scale, seed=seed)
        expert = sample_trajectories(models, "expert", row, col, args.n_trajectories, seed=seed)
        rows.append({
            "goal": [row, col], "source": source, "argmax_cell": list(heat.argmax_cell), "hops": float(hops),
            "hit": bool(hops <= HIT_HOPS), "spearman": float(rho),
            "final_distance_base": float(np.mean(final_distances(layout, unguided, goal))),
            "final_distance_steered": float(np.mean(final_distances(layout, steered, goal))),
            "final_distance_expert": float(np.mean(final_distances(layout, expert, goal))),
        })
        print(f"  {maze} goal ({row:g}, {col:g}) [{source}]: argmax {heat.argmax_cell} hops {hops:g} "
              f"spearman {rho:.3f} final dist base {rows[-1]['final_distance_base']:.2f} "
              f"steered {rows[-1]['final_distance_steered']:.2f}", flush=True)
    summary = {
        "hit_rate": float(np.mean([r["hit"] for r in rows])),
        "hit_rate_reference": float(np.mean([r["hit"] for r in rows if r["source"] == "reference"])),
        "spearman_median": float(np.median([r["spearman"] for r in rows])),
        "auroc_expert_vs_base": trajectory_auroc(models, args, t),
        "t": t, "steer_scale": scale,
        "final_distance_base": float(np.mean([r["final_distance_base"] for r in rows])),
        "final_distance_steered": float(np.mean([r["final_distance_steered"] for r in rows])),
        "final_distance_expert": float(np.mean([r["final_distance_expert"] for r in rows])),
        "n_goals": len(rows),
    }
    return {"maze": maze, "summary": summary, "goals": rows}


def plot_reference_heatmaps(args: MazeEvaluateArgs, chosen: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(args.mazes), 8, figsize=(24, 3.2 * len(args.mazes)), squeeze=False)
    for i, maze in enumerate(args.mazes):
        models = load_maze_models(maze, str(args.checkpoints) if args.checkpoints else None, "cpu")
        for j, (row, col) in enumerate(reference_goals(maze)):
            heat = reward_heatmap(models, row, col, chosen[maze])
            ax = axes[i, j]
            extent = [heat.xs[0] - 0.05, heat.xs[-1] + 0.05, heat.ys[-1] - 0.05, heat.ys[0] + 0.05]
            ax.imshow(np.ma.masked_invalid(heat.values), extent=extent, cmap="viridis")
            layout = get_layout(maze)
            gx, gy = layout.cell_to_xy(row, col)
            ax.plot(gx, gy, "r*", markersize=14)
            ax.plot(*heat.argmax_xy, "wx", markersize=8)
            ax.set_title(f"{maze} goal ({row:g},{col:g}) t={chosen[maze]}", fontsize=9)
            ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("Learned relative reward (red star: goal, white x: argmax)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def evaluate_command(args: MazeEvaluateArgs):
    torch.set_num_threads(1)  # small-batch inference: a second thread only adds contention
    for maze in args.mazes:
        get_layout(maze)
    report = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()},
              "mazes": [evaluate_maze(maze, args) for maze in args.mazes]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    plot_reference_heatmaps(args, {m["maze"]: m["summary"]["t"] for m in report["mazes"]}, args.figure)
    print("| maze | t | goal hit rate (all / reference) | Spearman median | AUROC mean reward / reward gain | scale | "
          "final dist base | steered | expert |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in report["mazes"]:
        s = m["summary"]
        aurocs = s["auroc_expert_vs_base"]
        print(f"| {m['maze']} | {s['t']} | {s['hit_rate']:.2f} / {s['hit_rate_reference']:.2f} | "
              f"{s['spearman_median']:.3f} | {aurocs['mean_reward']:.3f} / {aurocs['reward_gain']:.3f} | "
              f"{s['steer_scale']:g} | "
              f"{s['final_distance_base']:.2f} | {s['final_distance_steered']:.2f} | "
              f"{s['final_distance_expert']:.2f} |")
    print(f"wrote {args.json} and {args.figure}")
