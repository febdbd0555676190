"""Training the three Maze2D models of one maze on the CPU (``python -m reward_demo maze train --maze NAME``):
data generated once (``data.maze_dataset``), the base and the goal-conditioned expert diffusion planners, then
the relative reward by gradient matching (Algorithm 1), each resumable.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import from_pretrained, read_config
from ..diffusion import GaussianDiffusion
from ..networks import TemporalUnet, WindowMLPReward
from ..options import MAZE_CHECKPOINTS as CHECKPOINT_ROOT
from ..options import ProgressOption, TrainSeedOption
from ..options import reproduce_command as command_line
from .data import FreeSpaceSampler, WindowSampler, maze_dataset
from .layouts import get_layout
from .models import MazeNormalizer


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
