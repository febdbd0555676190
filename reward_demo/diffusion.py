"""Gaussian diffusion over fixed-length arrays (trajectories, points, latents).

Follows the notation of Ho et al. (2020) and jannerm/diffuser: ``q_sample`` noises clean data,
``q_posterior`` gives the Gaussian q(x_{t-1} | x_t, x_0), ``p_mean_variance`` is the model's reverse
step. Samples have shape ``(batch, *event_shape)``; trajectories use ``(batch, horizon, features)``.

The denoiser is any module called as ``model(x_t, t, cond)`` (``cond`` may be ``None``) that predicts
either the clean sample x0 (``predict_epsilon=False``, the reference runs' choice) or the noise.

``GaussianDiffusion.sample`` is the one ancestral sampler: each reverse step is a ``ReverseStep`` (the
plain ``ddpm_step`` unless a guided one from ``steering`` is passed, as Diffuser's ``p_sample_loop`` takes a
``sample_fn``), and it returns a ``Sample``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .checkpoint import register

#: horizon index -> values written into ``x[:, index, :values.shape[-1]]`` (Diffuser-style inpainting)
Conditions = Dict[int, torch.Tensor]
#: one reverse step ``step(diffusion, x_t, t, cond, conditions, generator) -> x_{t-1}`` (the sampler inpaints
#: ``conditions`` into its result); ``ddpm_step`` is the unguided one, ``steering`` has the guided ones
ReverseStep = Callable[["GaussianDiffusion", torch.Tensor, torch.Tensor, Any, Optional[Conditions],
                        Optional[torch.Generator]], torch.Tensor]


class Sample(NamedTuple):
    """What the samplers return (Diffuser's ``Sample``); unpacks as ``x, chain = diffusion.sample(...)``."""

    x: torch.Tensor
    """the samples x_0, shape (batch, *event_shape)"""
    chain: Optional[torch.Tensor] = None
    """with ``return_chain``: every state x_T .. x_0, shape (batch, T + 1, *event_shape); else None"""


def cosine_beta_schedule(n_timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule, betas clipped to [0, 0.999]."""
    steps = n_timesteps + 1
    x = torch.linspace(0, steps, steps, dtype=torch.float64)
    alphas_cumprod = torch.cos(((x / steps) + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0, 0.999).float()


def apply_conditioning(x: torch.Tensor, conditions: Optional[Conditions]) -> torch.Tensor:
    """Overwrite fixed entries (e.g. the start state) in place, as Diffuser's inpainting does."""
    if conditions:
        for index, values in conditions.items():
            x[:, index, : values.shape[-1]] = values
    return x


def extract(a: torch.Tensor, t: torch.Tensor, x_shape) -> torch.Tensor:
    """Gather per-timestep constants ``a[t]`` and broadcast them against a batch of shape ``x_shape``."""
    out = a.gather(-1, t)
    return out.reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))


def ddpm_step(diffusion: "GaussianDiffusion", x_t: torch.Tensor, t: torch.Tensor, cond=None,
              conditions: Optional[Conditions] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The unguided ``ReverseStep``: the model's posterior mean plus noise (none at t = 0)."""
    return diffusion.p_sample(x_t, t, cond, generator)


@register(ignore=("loss_weights",))  # the loss weights travel in the state dict, not in the JSON config
class GaussianDiffusion(nn.Module):
    """DDPM with a cosine schedule, x0- or epsilon-prediction, DDPM and DDIM reverse sampling.

    Args:
        model: denoiser ``model(x_t, t, cond) -> x0 or epsilon``.
        event_shape: shape of one sample, e.g. ``(horizon, features)``.
        n_timesteps: number of diffusion steps T.
        predict_epsilon: the model predicts the noise instead of x0.
        clip_denoised: clip predicted x0 to ``[-clip_value, clip_value]`` (Diffuser's default, for
            normalised data).
        loss_weights: optional per-element weights of the denoising loss, shape ``event_shape``
            (Diffuser weights the first action more, for example).
    """

    def __init__(
        self,
        model: nn.Module,
        event_shape: tuple,
        n_timesteps: int = 100,
        predict_epsilon: bool = False,
        clip_denoised: bool = False,
        clip_value: float = 1.0,
        loss_weights: Optional[torch.Tensor] = None,
    ):
        super().__init__()
        self.model = model
        self.event_shape = tuple(event_shape)
        self.n_timesteps = int(n_timesteps)
        self.predict_epsilon = predict_epsilon
        self.clip_denoised = clip_denoised
        self.clip_value = clip_value

        betas = cosine_beta_schedule(n_timesteps)
        alphas = 1.0 - betas
        alphas_cumprod = torch.cumprod(alphas, dim=0)
        alphas_cumprod_prev = torch.cat([torch.ones(1), alphas_cumprod[:-1]])
        reg = self.register_buffer
        reg("betas", betas)
        reg("alphas_cumprod", alphas_cumprod)
        reg("alphas_cumprod_prev", alphas_cumprod_prev)
        reg("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
        reg("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod))
        reg("sqrt_recip_alphas_cumprod", torch.sqrt(1.0 / alphas_cumprod))
        reg("sqrt_recipm1_alphas_cumprod", torch.sqrt(1.0 / alphas_cumprod - 1))
        posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
        reg("posterior_variance", posterior_variance)
        # the posterior variance is 0 at t = 0: clip the log for numerical safety, as Diffuser does
        reg("posterior_log_variance_clipped", torch.log(torch.clamp(posterior_variance, min=1e-20)))
        reg("posterior_mean_coef1", betas * torch.sqrt(alphas_cumprod_prev) / (1.0 - alphas_cumprod))
        reg("posterior_mean_coef2", (1.0 - alphas_cumprod_prev) * torch.sqrt(alphas) / (1.0 - alphas_cumprod))
        if loss_weights is None:
            loss_weights = torch.ones(self.event_shape)
        reg("loss_weights", loss_weights.float().reshape(self.event_shape))

    # ------------------------------------------------------------------ forward process
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Sample x_t ~ q(x_t | x0)."""
        if noise is None:
            noise = torch.randn_like(x0)
        return (
            extract(self.sqrt_alphas_cumprod, t, x0.shape) * x0
            + extract(self.sqrt_one_minus_alphas_cumprod, t, x0.shape) * noise
        )

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor):
        """Mean, variance and clipped log-variance of q(x_{t-1} | x_t, x0)."""
        mean = (
            extract(self.posterior_mean_coef1, t, x_t.shape) * x0
            + extract(self.posterior_mean_coef2, t, x_t.shape) * x_t
        )
        return (
            mean,
            extract(self.posterior_variance, t, x_t.shape),
            extract(self.posterior_log_variance_clipped, t, x_t.shape),
        )

    def predict_start_from_noise(self, x_t: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return (
            extract(self.sqrt_recip_alphas_cumprod, t, x_t.shape) * x_t
            - extract(self.sqrt_recipm1_alphas_cumprod, t, x_t.shape) * noise
        )

    # ------------------------------------------------------------------ reverse process
    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The model's estimate of the clean sample, clipped if ``clip_denoised``."""
        out = self.model(x_t, t, cond)
        x0 = self.predict_start_from_noise(x_t, t, out) if self.predict_epsilon else out
        if self.clip_denoised:
            x0 = x0.clamp(-self.clip_value, self.clip_value)
        return x0

    def p_mean_variance(self, x_t: torch.Tensor, t: torch.Tensor, cond=None):
        """Mean, variance and log-variance of the model's reverse step p(x_{t-1} | x_t)."""
        return self.q_posterior(self.predict_x0(x_t, t, cond), x_t, t)

    def reverse_mean(self, x_t: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The reverse-step mean alone: the quantity the relative reward's gradient is matched to."""
        return self.p_mean_variance(x_t, t, cond)[0]

    def timesteps(self, batch_size: int, t: int, device) -> torch.Tensor:
        return torch.full((batch_size,), t, device=device, dtype=torch.long)

    def p_sample(self, x_t, t: torch.Tensor, cond=None, generator: Optional[torch.Generator] = None):
        """One DDPM reverse step: posterior mean plus noise (none at t = 0)."""
        mean, _, log_var = self.p_mean_variance(x_t, t, cond)
        return self.add_posterior_noise(mean, log_var, t, generator)

    def add_posterior_noise(self, mean: torch.Tensor, log_var: torch.Tensor, t: torch.Tensor,
                            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """x_{t-1} = mean + sigma_t z, z ~ N(0, I) drawn from ``generator`` (no noise at t = 0)."""
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        nonzero = (t > 0).float().reshape(-1, *((1,) * (mean.dim() - 1)))
        return mean + nonzero * torch.exp(0.5 * log_var) * noise

    @torch.no_grad()
    def sample(
        self,
        batch_size: int,
        cond=None,
        conditions: Optional[Conditions] = None,
        generator: Optional[torch.Generator] = None,
        step: Optional[ReverseStep] = None,
        return_chain: bool = False,
        on_state: Optional[Callable[[torch.Tensor, torch.Tensor], None]] = None,
        progress: bool = False,
    ) -> Sample:
        """Ancestral sampling over all T steps, from x_T ~ N(0, I) drawn from ``generator``.

        Args:
            batch_size: number of samples.
            cond: network conditioning passed to the denoiser (e.g. a goal), or None.
            conditions: entries fixed by inpainting at the start and after every step (e.g. the start state).
            generator: seeds the noise.
            step: the reverse step x_t -> x_{t-1}; default ``ddpm_step`` (unguided), ``steering`` has guided ones.
            return_chain: also return every intermediate x_t in ``Sample.chain``.
            on_state: called as ``on_state(x_t, t)`` with the state each reverse step starts from (to fit a
                reward on the sampler's own states, for example).
            progress: show a progress bar.
        """
        step = step or ddpm_step
        device = self.betas.device
        x = torch.randn((batch_size, *self.event_shape), generator=generator, device=device)
        x = apply_conditioning(x, conditions)
        chain = [x] if return_chain else None
        steps = range(self.n_timesteps - 1, -1, -1)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="sampling", leave=False)
        for i in steps:
            t = self.timesteps(batch_size, i, device)
            if on_state is not None:
                on_state(x, t)
            x = apply_conditioning(step(self, x, t, cond, conditions, generator), conditions)
            if return_chain:
                chain.append(x)
        return Sample(x, torch.stack(chain, dim=1) if return_chain else None)

    @torch.no_grad()
    def ddim_sample(
        self,
        batch_size: int,
        n_steps: int,
        cond=None,
        conditions: Optional[Conditions] = None,
        generator: Optional[torch.Generator] = None,
        eta: float = 0.0,
    ) -> Sample:
        """DDIM sampling (Song et al. 2021) over ``n_steps`` evenly spaced timesteps; eta=0 is deterministic."""
        if not 1 <= n_steps <= self.n_timesteps:
            raise ValueError(f"n_steps must be in [1, {self.n_timesteps}], got {n_steps}")
        device = self.betas.device
        x = torch.randn((batch_size, *self.event_shape), generator=generator, device=device)
        x = apply_conditioning(x, conditions)
        times = torch.linspace(self.n_timesteps - 1, 0, n_steps).round().long().tolist()
        for i, t_now in enumerate(times):
            t = self.timesteps(batch_size, t_now, device)
            x0 = self.predict_x0(x, t, cond)
            a_t = self.alphas_cumprod[t_now]
            if i + 1 < len(times):
                a_prev = self.alphas_cumprod[times[i + 1]]
            else:
                a_prev = torch.ones((), device=device)
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
            sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).clamp(min=0).sqrt()
            noise = torch.randn(x.shape, generator=generator, device=device)
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps + sigma * noise
            x = apply_conditioning(x, conditions)
        return Sample(x)

    # ------------------------------------------------------------------ training
    def loss(self, x0: torch.Tensor, cond=None, conditions: Optional[Conditions] = None) -> torch.Tensor:
        """Denoising loss at a uniformly drawn timestep (weighted MSE on x0 or on the noise)."""
        t = torch.randint(0, self.n_timesteps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        x_t = apply_conditioning(self.q_sample(x0, t, noise), conditions)
        out = self.model(x_t, t, cond)
        target = noise if self.predict_epsilon else x0
        if not self.predict_epsilon:
            out = apply_conditioning(out, conditions)
        return (F.mse_loss(out, target, reduction="none") * self.loss_weights).mean()

    def forward(self, x0: torch.Tensor, cond=None, conditions: Optional[Conditions] = None) -> torch.Tensor:
        return self.loss(x0, cond, conditions)
