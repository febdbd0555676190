"""Steering: reward-guided reverse sampling of the base model (Diffuser's guided sampling).

Before every reverse step t: x <- x + scale * grad_x r(x, t), repeated ``n_guide_steps`` times,
with the gradient zeroed for t < t_stopgrad; then the base model's posterior mean plus noise.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn

from .diffusion import Conditions, GaussianDiffusion
from .relative_reward import reward_gradient


class RewardGuide:
    """``guide(x_t, t) -> x_t'``: gradient ascent on a learned reward, for ``GaussianDiffusion.sample``.

    Args:
        reward: reward network r(x, t, cond).
        scale: step size of the gradient ascent (0 = unguided).
        n_guide_steps: ascent steps per reverse step.
        t_stopgrad: no guidance at reverse steps t < t_stopgrad.
        cond: the reward's conditioning (e.g. the goal), or None.
    """

    def __init__(self, reward: nn.Module, scale: float, n_guide_steps: int = 1, t_stopgrad: int = 0, cond=None):
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale}")
        if n_guide_steps < 1:
            raise ValueError(f"n_guide_steps must be >= 1, got {n_guide_steps}")
        if t_stopgrad < 0:
            raise ValueError(f"t_stopgrad must be >= 0, got {t_stopgrad}")
        self.reward, self.scale, self.n_guide_steps, self.t_stopgrad, self.cond = (
            reward, scale, n_guide_steps, t_stopgrad, cond)

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.scale == 0:
            return x
        active = (t >= self.t_stopgrad).to(x.dtype).reshape(-1, *((1,) * (x.dim() - 1)))
        if not active.any():  # the whole batch is past t_stopgrad: skip the reward's backward pass
            return x
        for _ in range(self.n_guide_steps):
            _, grad = reward_gradient(self.reward, x, t, self.cond)
            x = x + self.scale * active * grad
        return x.detach()


def steered_sample(base: GaussianDiffusion, reward: nn.Module, batch_size: int, scale: float,
                   t_stopgrad: int = 0, n_guide_steps: int = 1, reward_cond=None, base_cond=None,
                   conditions: Optional[Conditions] = None, generator: Optional[torch.Generator] = None,
                   return_chain: bool = False, progress: bool = False):
    """Sample ``batch_size`` trajectories from the base model steered by ``reward`` (batched)."""
    guide = RewardGuide(reward, scale, n_guide_steps, t_stopgrad, reward_cond)
    return base.sample(batch_size, cond=base_cond, conditions=conditions, generator=generator,
                       return_chain=return_chain, guide=guide, progress=progress)
