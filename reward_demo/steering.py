"""Steering: reward-guided reverse steps for ``GaussianDiffusion.sample``.

Two places to apply the learned reward's gradient, each a ``diffusion.ReverseStep``:

- ``RewardGuide`` (input guidance, Diffuser's guided sampling and the paper's): before every reverse step t,
  x <- x + scale * grad_x r(x, t), ``n_guide_steps`` times, then the base model's posterior mean plus noise;
- ``MeanRewardGuide`` (mean guidance): the gradient at and added to the base model's reverse mean,
  x_{t-1} = mu_B(x_t) + scale * grad r(mu_B(x_t), t) + sigma_t z, the identity the reward is trained on.

Both take ``scale``, ``t_stopgrad`` and ``t_startgrad`` as numbers or as per-sample tensors (to run several
settings in one batch) and guide only the reverse steps t_stopgrad <= t < t_startgrad (``t_stopgrad`` is the
reference's; ``t_startgrad``, default every step, is this project's: it leaves the high-noise steps unguided, which
skips the reward's backward pass there and, on Hopper and Walker2d, steered better); both draw the same noise, in
the same order, as the unguided sampler.
"""
from __future__ import annotations

from typing import Optional, Union

import torch
import torch.nn as nn

from .diffusion import Conditions, GaussianDiffusion, Sample, apply_conditioning
from .relative_reward import reward_gradient

#: a number for the whole batch, or one value per sample, shape (batch,)
PerSample = Union[float, int, torch.Tensor]


class _Guide:
    """What both guides share: the reward, the per-sample weight of its gradient at step t, validation."""

    def __init__(self, reward: nn.Module, scale: PerSample, t_stopgrad: PerSample = 0, cond=None,
                 t_startgrad: Optional[PerSample] = None):
        if (torch.as_tensor(scale) < 0).any():
            raise ValueError(f"scale must be >= 0, got {scale}")
        if (torch.as_tensor(t_stopgrad) < 0).any():
            raise ValueError(f"t_stopgrad must be >= 0, got {t_stopgrad}")
        if t_startgrad is not None and (torch.as_tensor(t_startgrad) < 1).any():
            raise ValueError(f"t_startgrad must be >= 1, got {t_startgrad}")
        self.reward, self.cond = reward, cond
        self.scale = scale.float() if torch.is_tensor(scale) else float(scale)
        self.t_stopgrad = t_stopgrad.long() if torch.is_tensor(t_stopgrad) else int(t_stopgrad)
        self.t_startgrad = (None if t_startgrad is None else
                            t_startgrad.long() if torch.is_tensor(t_startgrad) else int(t_startgrad))

    def weight(self, t: torch.Tensor, like: torch.Tensor) -> Optional[torch.Tensor]:
        """scale * [t_stopgrad <= t < t_startgrad] shaped to broadcast against ``like``; None where it is 0 for
        the whole batch (so the reward's backward pass is skipped)."""
        guided = t >= self.t_stopgrad
        if self.t_startgrad is not None:
            guided = guided & (t < self.t_startgrad)
        weight = self.scale * guided.to(like.dtype)
        if not bool((weight > 0).any()):
            return None
        return weight.reshape(-1, *((1,) * (like.dim() - 1)))


class RewardGuide(_Guide):
    """Input guidance: gradient ascent on the reward before each reverse step.

    Args:
        reward: reward network r(x, t, cond).
        scale: step size of the gradient ascent (0 = unguided), a number or one per sample.
        n_guide_steps: ascent steps per reverse step.
        t_stopgrad: no guidance at reverse steps t < t_stopgrad, a number or one per sample.
        cond: the reward's conditioning (e.g. the goal), or None.
        t_startgrad: no guidance at reverse steps t >= t_startgrad, a number or one per sample (None: guidance
            from the first reverse step).
    """

    def __init__(self, reward: nn.Module, scale: PerSample, n_guide_steps: int = 1, t_stopgrad: PerSample = 0,
                 cond=None, t_startgrad: Optional[PerSample] = None):
        super().__init__(reward, scale, t_stopgrad, cond, t_startgrad)
        if n_guide_steps < 1:
            raise ValueError(f"n_guide_steps must be >= 1, got {n_guide_steps}")
        self.n_guide_steps = n_guide_steps

    def ascend(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x after ``n_guide_steps`` gradient steps on r(., t) (x itself where the weight is 0)."""
        weight = self.weight(t, x)
        if weight is None:
            return x
        for _ in range(self.n_guide_steps):
            _, grad = reward_gradient(self.reward, x, t, self.cond)
            x = x + weight * grad
        return x.detach()

    def __call__(self, diffusion: GaussianDiffusion, x: torch.Tensor, t: torch.Tensor, cond=None,
                 conditions: Optional[Conditions] = None, generator: Optional[torch.Generator] = None):
        x = apply_conditioning(self.ascend(x, t), conditions)
        return diffusion.p_sample(x, t, cond, generator)


class MeanRewardGuide(_Guide):
    """Mean guidance: the reward's gradient at the base model's (inpainted) reverse mean, added to that mean.
    With scale 1 and a perfect fit it reproduces the expert's reverse step (mu_E = mu_B + grad r(mu_B)).

    Args: as ``RewardGuide`` (one gradient step per reverse step).
    """

    def __call__(self, diffusion: GaussianDiffusion, x: torch.Tensor, t: torch.Tensor, cond=None,
                 conditions: Optional[Conditions] = None, generator: Optional[torch.Generator] = None):
        mean, _, log_var = diffusion.p_mean_variance(x, t, cond)
        weight = self.weight(t, x)
        if weight is not None:
            _, grad = reward_gradient(self.reward, apply_conditioning(mean, conditions), t, self.cond)
            mean = mean + weight * grad
        return diffusion.add_posterior_noise(mean, log_var, t, generator)


def steered_sample(base: GaussianDiffusion, reward: nn.Module, batch_size: int, scale: float,
                   t_stopgrad: int = 0, n_guide_steps: int = 1, reward_cond=None, base_cond=None,
                   conditions: Optional[Conditions] = None, generator: Optional[torch.Generator] = None,
                   return_chain: bool = False, progress: bool = False) -> Sample:
    """Sample ``batch_size`` trajectories from the base model steered by ``reward`` (input guidance, batched)."""
    guide = RewardGuide(reward, scale, n_guide_steps, t_stopgrad, reward_cond)
    return base.sample(batch_size, cond=base_cond, conditions=conditions, generator=generator, step=guide,
                       return_chain=return_chain, progress=progress)
