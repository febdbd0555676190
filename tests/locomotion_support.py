"""Tiny random Hopper models and datasets shared by the locomotion tests."""
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from reward_demo.checkpoint import save_pretrained
from reward_demo.locomotion.train import GaussianNormalizer, LocoTrainArgs, build_diffusion, build_reward

OBS, ACT = 11, 3  # Hopper-v5


def save_tiny_hopper_models(root: Path) -> Path:
    """Random tiny Hopper base, expert and reward (horizon 4, T 20) saved like the trainer saves them in
    ROOT/hopper; returns ROOT."""
    args = LocoTrainArgs(env="hopper", horizon=4, dim=16, dim_mults=(1, 2)).resolved()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    normalizer = GaussianNormalizer(tuple(rng.normal(0, 0.1, OBS + ACT).tolist()),
                                    tuple(rng.uniform(0.5, 2.0, OBS + ACT).tolist()))
    meta = {"env": "hopper", "obs_dim": OBS, "action_dim": ACT, "horizon": 4, "normalizer": asdict(normalizer),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()}}
    for kind, model in (("base", build_diffusion(args, OBS, ACT)), ("expert", build_diffusion(args, OBS, ACT)),
                        ("reward", build_reward(args, OBS, ACT))):
        save_pretrained(model, root / "hopper" / kind, metadata={**meta, "kind": kind})
    return root


def random_dataset(rng, episodes: int, length: int) -> dict:
    """A D4RL-format Hopper dataset of random transitions, ``episodes`` episodes of ``length`` steps."""
    n = episodes * length
    timeouts = np.zeros(n, dtype=bool)
    timeouts[length - 1::length] = True
    return {"observations": rng.normal(size=(n, OBS)).astype(np.float32),
            "actions": rng.uniform(-1, 1, size=(n, ACT)).astype(np.float32),
            "rewards": rng.normal(size=n).astype(np.float32), "terminals": np.zeros(n, dtype=bool),
            "timeouts": timeouts}


def save_random_datasets(data_root: Path, seed: int = 0, episodes: int = 10, length: int = 12) -> Path:
    """DATA_ROOT/hopper/{medium_replay,expert}.npz of random transitions; returns DATA_ROOT."""
    rng = np.random.default_rng(seed)
    (data_root / "hopper").mkdir(parents=True, exist_ok=True)
    for kind in ("medium_replay", "expert"):
        np.savez(data_root / "hopper" / f"{kind}.npz", **random_dataset(rng, episodes, length))
    return data_root
