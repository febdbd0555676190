"""Maze2D models: an unconditional base planner, a goal-conditioned expert planner and a goal-conditioned
per-state relative reward, trained here on the CPU (``python -m reward_demo maze train --maze NAME``).

Trajectories are windows of ``horizon`` observations (x, y, vx, vy) taken every ``stride`` env steps,
normalised by ``MazeNormalizer`` (positions by the maze's half-size, velocities by ``VELOCITY_SCALE``).
The expert and the reward take the normalised goal (x, y) as their conditioning vector, so any free
position can be the goal. The reward reads positions only, one state at a time (window 1), so
r(s, t, goal) is a function over the maze floor: the heatmap.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..checkpoint import default_device, from_pretrained, read_config
from ..diffusion import GaussianDiffusion
from ..networks import TemporalUnet, WindowMLPReward
from ..options import MAZE_CHECKPOINTS as CHECKPOINT_ROOT
from ..options import ProgressOption, TrainSeedOption, maze_checkpoints
from ..options import reproduce_command as command_line
from .data import GENERATOR_VERSION, FreeSpaceSampler, WindowSampler, generate_dataset, load_dataset, save_dataset
from .layouts import get_layout

VELOCITY_SCALE = 4.0
#: dataset splits: (seed, env steps); train fits the models, val gives held-out losses, test is for evaluation
SPLITS = {"train": (0, 500_000), "val": (1, 50_000), "test": (2, 100_000)}
#: expert data options: episodes of 400 steps (800 in the large maze, where half of the 400-step trips ended
#: before reaching the goal) in which the ball holds the goal for 100 steps on every arrival (300 in the
#: large maze, where with 100 the learned reward's peak still drifted a corridor away on validation goals),
#: so the goal is the expert's most visited place (see data.py)
EXPERT_DATA_OPTIONS = {"umaze": {"episode_steps": 400, "goal_dwell_steps": 100},
                       "medium": {"episode_steps": 400, "goal_dwell_steps": 100},
                       "large": {"episode_steps": 800, "goal_dwell_steps": 300}}
#: per shipped maze: the diffusion step t at which to read the reward and the steering scale, both chosen
#: on validation goals (never the evaluation goals) by `python -m reward_demo maze evaluate`
#: (assets/maze_eval.json, "t" and "steer_scale")
RECOMMENDED_SETTINGS = {"umaze": {"t": 0, "scale": 50.0}, "medium": {"t": 0, "scale": 5.0},
                        "large": {"t": 0, "scale": 5.0}}


@dataclass
class MazeTrainArgs(ProgressOption, TrainSeedOption):
    """Generate data and train the base, expert and reward models of one maze (resumable)."""

    maze: str = "umaze"
    """umaze, medium or large"""
    out: Path = CHECKPOINT_ROOT
    """checkpoint root; models go to OUT/MAZE/{base,expert,reward}"""
    data_root: Path = Path("data")
    """where generated datasets are cached"""
    horizon: int = 32
    """observations per trajectory window"""
    stride: int = 3
    """env steps between consecutive observations of a window"""
    n_timesteps: int = 50
    """diffusion steps T"""
    dim: int = 16
    """TemporalUnet base width"""
    diffusion_steps: int = 10_000
    """training steps of each diffusion model"""
    expert_dim: int = 0
    """TemporalUnet base width of the expert (0 = same as --dim)"""
    expert_steps: int = 0
    """training steps of the expert (0 = same as --diffusion-steps)"""
    diffusion_lr: float = 5e-4
    """diffusion learning rate"""
    reward_steps: int = 6_000
    """reward training steps"""
    reward_lr: float = 1e-3
    """reward learning rate"""
    reward_base_goals: str = "expert"
    """goals the base windows are scored against: "expert" (the expert data's goals, shuffled) or "uniform" (a
    fresh goal per window, drawn like the expert's)"""
    reward_max_t: int = 0
    """train the reward on diffusion steps t < this only, where the heatmap is read; later steps (steering) read it
    at this - 1 (0 = every step)"""
    reward_normalize_per_t: bool = False
    """weigh the matching error of each diffusion step by 1 / its mean squared target (False: the reference's
    unweighted loss)"""
    batch_size: int = 128
    """diffusion batch size (the reward uses twice this)"""
    n_windows: int = 100_000
    """windows per kind in the reward's training pool"""


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


def window_pool(maze: str, kind: str, split: str, args: MazeTrainArgs, n: int, seed: int):
    """(normalised windows (n, H, 4), normalised goals (n, 2)) as float32 tensors."""
    sampler = WindowSampler(maze_dataset(maze, kind, split, args.data_root, args.progress), args.horizon, args.stride,
                            pad=True)
    windows, goals = sampler.sample(n, np.random.default_rng(seed))
    norm = MazeNormalizer.for_maze(maze)
    return (torch.from_numpy(norm.normalize(windows.astype(np.float32))),
            torch.from_numpy(norm.normalize_goal(goals.astype(np.float32))))


def build_diffusion(args: MazeTrainArgs, conditional: bool) -> GaussianDiffusion:
    dim = (args.expert_dim or args.dim) if conditional else args.dim
    net = TemporalUnet(args.horizon, 4, dim=dim, dim_mults=(1, 2, 4), cond_dim=2 if conditional else 0)
    return GaussianDiffusion(net, (args.horizon, 4), args.n_timesteps)


def build_reward(args: MazeTrainArgs) -> WindowMLPReward:
    return WindowMLPReward(args.horizon, 4, window=1, input_columns=[0, 1], hidden=128, n_layers=3, cond_dim=2,
                           t_max=args.reward_max_t)


def is_complete(directory: Path, steps: int) -> bool:
    """A finished model folder: weights present and trained for ``steps`` steps."""
    try:
        config = read_config(directory)
    except FileNotFoundError:
        return False
    return (directory / "model.safetensors").is_file() and config["metadata"]["training"]["steps"] == steps


def reproduce_command(args: MazeTrainArgs) -> str:
    """The command line that trains these models again: the maze plus every option changed from its default."""
    return command_line(f"python -m reward_demo maze train --maze {args.maze}", args, MazeTrainArgs(),
                        skip=("maze", "out", "data_root", "progress"))


def train_command(args: MazeTrainArgs):
    from ..relative_reward import NoisedDataSource, train_relative_reward
    from ..training import TrainConfig, train

    get_layout(args.maze)  # validates the name
    if args.reward_base_goals not in ("expert", "uniform"):
        raise ValueError(f"--reward-base-goals must be 'expert' or 'uniform', got {args.reward_base_goals!r}")
    root = Path(args.out) / args.maze
    norm = MazeNormalizer.for_maze(args.maze)
    metadata = {"domain": "maze", "maze": args.maze, "normalizer": asdict(norm), "args": {
        k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()},
        "command": reproduce_command(args)}
    models = {}
    for kind, conditional in (("base", False), ("expert", True)):
        steps = (args.expert_steps or args.diffusion_steps) if conditional else args.diffusion_steps
        dconf = TrainConfig(steps=steps, batch_size=args.batch_size, lr=args.diffusion_lr, seed=args.seed,
                            eval_every=1000, save_every=1000, progress=args.progress)
        out = root / kind
        if is_complete(out, steps):
            models[kind] = from_pretrained(out, "cpu")
            continue
        windows, goals = window_pool(args.maze, kind, "train", args, 200_000, args.seed)
        val_windows, val_goals = window_pool(args.maze, kind, "val", args, 2048, args.seed + 1)
        diffusion = build_diffusion(args, conditional)

        def sample_batch(n, generator, device, windows=windows, goals=goals, conditional=conditional):
            index = torch.randint(0, windows.shape[0], (n,), generator=generator)
            return {"x0": windows[index].to(device), "cond": goals[index].to(device) if conditional else None}

        def val_loss(model, vw=val_windows, vg=val_goals, conditional=conditional):
            with torch.random.fork_rng(), torch.no_grad():  # same noise every time, training stream untouched
                torch.manual_seed(0)
                return model.loss(vw, vg if conditional else None).item()

        models[kind] = train(diffusion, lambda m, b: m(b["x0"], b["cond"]), sample_batch, dconf, out,
                             validation_loss=val_loss, metadata={**metadata, "kind": kind}).model
    base, expert = models["base"], models["expert"]

    out = root / "reward"
    if not is_complete(out, args.reward_steps):
        def pool(split, n, seed):
            bw, _ = window_pool(args.maze, "base", split, args, n, seed)
            ew, eg = window_pool(args.maze, "expert", split, args, n, seed + 1)
            # base windows are scored against goals drawn like the expert's (uniform over free space): the
            # expert data's own few hundred goals, or a fresh one per window
            if args.reward_base_goals == "uniform":
                sampler, rng = FreeSpaceSampler(get_layout(args.maze)), np.random.default_rng(seed + 2)
                xy = np.array([sampler.sample(rng) for _ in range(n)], dtype=np.float32)
                bg = torch.from_numpy(norm.normalize_goal(xy))
            else:
                bg = eg[torch.randperm(n, generator=torch.Generator().manual_seed(seed + 2))]
            return torch.cat([bw, ew]), torch.cat([bg, eg])

        max_t = args.reward_max_t or None
        source = NoisedDataSource(*pool("train", args.n_windows, args.seed), base, max_t)
        val_source = NoisedDataSource(*pool("val", 4096, args.seed + 10), base, max_t)
        rconf = TrainConfig(steps=args.reward_steps, batch_size=2 * args.batch_size, lr=args.reward_lr, seed=args.seed,
                            eval_every=500, save_every=500, progress=args.progress)
        train_relative_reward(build_reward(args), base, expert, source, val_source, rconf, out, buffer_size=16384,
                              refresh_every=150, metadata={**metadata, "kind": "reward"},
                              normalize_per_t=args.reward_normalize_per_t)
    print(f"maze {args.maze}: models in {root}")


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
