"""A case with a known answer: base and expert data are Gaussians in the plane.

For x0 ~ N(m, S) the noised marginal at step t is N(sqrt(a_t) m, a_t S + (1 - a_t) I) (a_t the
cumulative alpha) and E[x0 | x_t] is affine in x_t, so both models' exact reverse means, and the
log-density ratio of the two noised marginals, are closed forms. By Tweedie's formula
mu_E - mu_B = c1_t (1 - a_t) / sqrt(a_t) * grad log(p_E,t / p_B,t), so a reward trained by gradient
matching must equal that log ratio up to a positive scale and a constant. The tests check exactly that,
and ``python -m reward_demo gaussian train-reward`` runs the same training from the command line
(including under ``accelerate launch``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Sequence

import torch
import torch.nn as nn

from .checkpoint import register
from .diffusion import GaussianDiffusion, cosine_beta_schedule
from .networks import MLPDenoiser, WindowMLPReward
from .options import ProgressOption, TrainSeedOption

BASE_MEAN = (0.0, 0.0)
BASE_COV = ((1.0, 0.0), (0.0, 1.0))
EXPERT_MEAN = (1.5, -1.0)
EXPERT_COV = ((0.5, 0.2), (0.2, 0.8))


@register
class ExactGaussianDenoiser(nn.Module):
    """Predicts E[x0 | x_t] exactly for x0 ~ N(mean, cov) under a cosine schedule of n_timesteps."""

    def __init__(self, mean: Sequence[float], cov: Sequence[Sequence[float]], n_timesteps: int):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float64), persistent=False)
        self.register_buffer("cov", torch.tensor(cov, dtype=torch.float64), persistent=False)
        alphas_cumprod = torch.cumprod(1 - cosine_beta_schedule(n_timesteps).double(), 0)
        self.register_buffer("alphas_cumprod", alphas_cumprod, persistent=False)

    def forward(self, x_t, t, cond=None):
        a = self.alphas_cumprod[t][:, None, None]
        eye = torch.eye(self.mean.shape[0], dtype=torch.float64, device=x_t.device)
        marginal_cov = a * self.cov + (1 - a) * eye
        gain = a.sqrt() * self.cov @ torch.linalg.inv(marginal_cov)  # Cov(x0, x_t) Cov(x_t)^-1
        centred = x_t.double() - a[:, :, 0].sqrt() * self.mean
        return (self.mean + (gain @ centred[:, :, None])[:, :, 0]).to(x_t.dtype)


def noised_log_density(x: torch.Tensor, t: int, mean, cov, n_timesteps: int) -> torch.Tensor:
    """log N(x; sqrt(a_t) mean, a_t cov + (1 - a_t) I) for a batch of points x."""
    a = torch.cumprod(1 - cosine_beta_schedule(n_timesteps).double(), 0)[t]
    mean = torch.as_tensor(mean, dtype=torch.float64)
    cov = torch.as_tensor(cov, dtype=torch.float64)
    eye = torch.eye(len(mean), dtype=torch.float64)
    dist = torch.distributions.MultivariateNormal(a.sqrt() * mean, a * cov + (1 - a) * eye)
    return dist.log_prob(x.double())


def log_density_ratio(x: torch.Tensor, t: int, n_timesteps: int) -> torch.Tensor:
    """log p_E,t(x) - log p_B,t(x): the exact relative reward, up to scale and constant."""
    return (noised_log_density(x, t, EXPERT_MEAN, EXPERT_COV, n_timesteps)
            - noised_log_density(x, t, BASE_MEAN, BASE_COV, n_timesteps))


def sample_points(n: int, which: Literal["base", "expert"], generator: torch.Generator) -> torch.Tensor:
    mean, cov = (BASE_MEAN, BASE_COV) if which == "base" else (EXPERT_MEAN, EXPERT_COV)
    chol = torch.linalg.cholesky(torch.tensor(cov))
    return torch.tensor(mean) + torch.randn(n, 2, generator=generator) @ chol.T


def exact_models(n_timesteps: int, expert_mean=EXPERT_MEAN, expert_cov=EXPERT_COV):
    """(base, expert) diffusion models with exact Gaussian denoisers."""
    return tuple(GaussianDiffusion(ExactGaussianDenoiser(m, c, n_timesteps), (2,), n_timesteps)
                 for m, c in ((BASE_MEAN, BASE_COV), (expert_mean, expert_cov)))


def make_reward(hidden: int = 64, n_layers: int = 3) -> WindowMLPReward:
    """A per-point reward r(x, t) (a window MLP over one step)."""
    return WindowMLPReward(horizon=1, transition_dim=2, window=1, hidden=hidden, n_layers=n_layers)


def train_point_diffusion(which: Literal["base", "expert"], n_timesteps: int, config, n_data: int = 20000,
                          out_dir: Optional[Path] = None) -> GaussianDiffusion:
    """Fit a small MLP diffusion model to samples of one of the two Gaussians."""
    from .training import train

    data = sample_points(n_data, which, torch.Generator().manual_seed(config.seed + (0 if which == "base" else 1)))
    diffusion = GaussianDiffusion(MLPDenoiser(event_dim=2, hidden=128, n_layers=3), (2,), n_timesteps)

    def sample_batch(n, generator, device):
        return {"x0": data[torch.randint(0, n_data, (n,), generator=generator)].to(device)}

    return train(diffusion, lambda model, batch: model(batch["x0"]), sample_batch, config, out_dir).model


# ----------------------------------------------------------------------------- command line
@dataclass
class TrainRewardArgs(ProgressOption, TrainSeedOption):
    """Learn the relative reward between two Gaussians (exact or trained diffusion models)."""

    out: Path = Path("runs/gaussian_reward")
    """output folder (resumes from it if it holds a training state)"""
    algorithm: Literal[1, 2] = 1
    """1: noised data samples; 2: states of the models' own reverse chains"""
    models: Literal["exact", "trained"] = "exact"
    """exact closed-form denoisers, or small MLP diffusion models trained first"""
    n_timesteps: int = 100
    """diffusion steps T"""
    steps: int = 3000
    """reward training steps"""
    diffusion_steps: int = 4000
    """training steps of each diffusion model when --models trained"""
    batch_size: int = 256
    """reward batch size per process"""
    lr: float = 1e-3
    """reward learning rate"""


def build_sources(base: GaussianDiffusion, expert: GaussianDiffusion, algorithm: int, seed: int):
    """(training source, held-out source) for Algorithm 1 or 2; the held-out one uses fresh seeds."""
    from .relative_reward import ChainStateSource, NoisedDataSource

    def mixture(s):
        g = torch.Generator().manual_seed(s)
        return torch.cat([sample_points(10000, "base", g), sample_points(10000, "expert", g)])

    if algorithm == 1:
        return NoisedDataSource(mixture(seed), None, base), NoisedDataSource(mixture(seed + 777), None, base)
    return (ChainStateSource(base, expert, n_chains=2000, seed=seed),
            ChainStateSource(base, expert, n_chains=500, seed=seed + 777))


def train_reward_command(args: TrainRewardArgs):
    from .relative_reward import train_relative_reward
    from .training import TrainConfig

    if args.models == "exact":
        base, expert = exact_models(args.n_timesteps)
    else:
        dconf = TrainConfig(steps=args.diffusion_steps, batch_size=256, lr=1e-3, seed=args.seed,
                            eval_every=max(1, args.diffusion_steps), save_every=args.diffusion_steps,
                            progress=args.progress)
        base = train_point_diffusion("base", args.n_timesteps, dconf, out_dir=args.out / "base")
        expert = train_point_diffusion("expert", args.n_timesteps, dconf, out_dir=args.out / "expert")
    source, val_source = build_sources(base, expert, args.algorithm, args.seed)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         eval_every=max(1, args.steps // 5), save_every=max(1, args.steps // 5),
                         progress=args.progress)
    result = train_relative_reward(make_reward(), base, expert, source, val_source, config,
                                   out_dir=args.out / "reward",
                                   metadata={"domain": "gaussian", "algorithm": args.algorithm, "models": args.models})
    print(f"held-out gradient-matching loss: {result.history[-1].get('val_loss'):.4g}; saved {args.out / 'reward'}")
    return result


COMMANDS = {"train-reward": (TrainRewardArgs, train_reward_command)}
