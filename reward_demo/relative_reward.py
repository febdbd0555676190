"""Relative reward learning by gradient matching (Nuti et al. 2023).

For a noised sample x_t, the base and expert diffusion models give reverse means mu_B and mu_E.
A reward network r(x, t) is trained so that its input gradient at x = mu_B equals mu_E - mu_B:

    loss = || grad_x r(mu_B, t) - (mu_E - mu_B) ||^2  (+ penalty * r^2)

Where the x_t come from:
- Algorithm 1 (``NoisedDataSource``): dataset samples noised by ``q_sample`` at a uniform t.
- Algorithm 2 (``ChainStateSource``): states visited by the two models' own reverse chains.

Targets (mu_B, mu_E) need no gradient, so they are computed in large chunks into a ``TargetBuffer``
that the optimiser then draws batches from; the buffer is refreshed with fresh x_t every
``refresh_every`` steps. ``refresh_every=1`` with a buffer the size of one batch is exactly the
reference's per-step computation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .diffusion import Conditions, GaussianDiffusion, apply_conditioning
from .networks import with_stable_mish


def reward_gradient(reward: nn.Module, x: torch.Tensor, t: torch.Tensor, cond=None, create_graph: bool = False):
    """(r(x, t), grad_x r(x, t)) for a batch; ``create_graph`` keeps the graph for a loss on the gradient."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        r = reward(x, t, cond)
        (grad,) = torch.autograd.grad(r.sum(), x, create_graph=create_graph)
    return r, grad


def gradient_matching_loss(reward: nn.Module, mu_base: torch.Tensor, target: torch.Tensor, t: torch.Tensor,
                           cond=None, penalty: float = 0.0, t_weights: Optional[torch.Tensor] = None,
                           weights: Optional[torch.Tensor] = None, free: Optional[torch.Tensor] = None) -> torch.Tensor:
    """MSE between grad_x r(mu_B, t) and target = mu_E - mu_B, plus ``penalty * mean(r^2)``.
    ``t_weights`` (T,) weighs each sample's squared error by the weight of its (integer) t; ``weights`` (B,)
    weighs each sample directly (None and None: unweighted). ``free`` (same shape as ``target``, bool): the
    entries the reverse process moves; entries fixed by inpainting are left out of the mean (None: all count)."""
    if t_weights is not None and weights is not None:
        raise ValueError("give t_weights or weights, not both")
    r, grad = reward_gradient(reward, mu_base, t, cond, create_graph=True)
    if t_weights is not None:
        weights = t_weights[t]
    if free is None and weights is None:
        loss = F.mse_loss(grad, target)
    else:
        loss = matching_error(grad, target, free)
        loss = loss.mean() if weights is None else (weights * loss).mean()
    if penalty:
        loss = loss + penalty * r.pow(2).mean()
    return loss


def matching_error(grad: torch.Tensor, target: torch.Tensor, free: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Per-sample mean squared error between ``grad`` and ``target`` over the ``free`` entries (None: all)."""
    squared = (grad - target).pow(2)
    if free is None:
        return squared.flatten(1).mean(1)
    return (squared * free).flatten(1).sum(1) / free.flatten(1).sum(1).clamp(min=1)


def free_entries(like: torch.Tensor, conditions: Optional[Conditions]) -> Optional[torch.Tensor]:
    """Bool mask of the entries of ``like`` that inpainting ``conditions`` leaves to the reverse process (None
    without conditions). The reverse process never moves the fixed entries, so the reward's gradient there
    does not steer and is not matched."""
    if not conditions:
        return None
    free = torch.ones_like(like, dtype=torch.bool)
    for index, values in conditions.items():
        free[:, index, : values.shape[-1]] = False
    return free


@torch.no_grad()
def reverse_mean_difference(base: GaussianDiffusion, expert: GaussianDiffusion, x_t, t, base_cond=None,
                            expert_cond=None, conditions: Optional[Conditions] = None):
    """(mu_B, mu_E - mu_B) at the same (x_t, t)."""
    mu_base = apply_conditioning(base.reverse_mean(x_t, t, base_cond), conditions)
    mu_expert = apply_conditioning(expert.reverse_mean(x_t, t, expert_cond), conditions)
    return mu_base, mu_expert - mu_base


@dataclass
class NoisedDataSource:
    """Algorithm 1: x_t = q_sample(x0, t) with x0 drawn from a dataset and t uniform in {0..max_t-1}.

    Args:
        x0: clean samples (a balanced mix of base and expert data is the locomotion default).
        cond: per-sample conditioning for the expert and the reward (e.g. the goal), or None.
        schedule: the diffusion whose noise schedule is shared by both models.
        max_t: draw only t < max_t (None: every step of the schedule, the reference's choice).
    """

    x0: torch.Tensor
    cond: Optional[torch.Tensor]
    schedule: GaussianDiffusion
    max_t: Optional[int] = None

    def __post_init__(self):
        if self.max_t is not None and not 1 <= self.max_t <= self.schedule.n_timesteps:
            raise ValueError(f"max_t must be in 1..{self.schedule.n_timesteps} (the schedule's T), got {self.max_t}")

    def draw(self, n: int, generator: torch.Generator):
        index = torch.randint(0, self.x0.shape[0], (n,), generator=generator)
        x0 = self.x0[index]
        t = torch.randint(0, self.max_t or self.schedule.n_timesteps, (n,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        x_t = self.schedule.q_sample(x0, t.to(x0.device), noise.to(x0.device))
        cond = None if self.cond is None else self.cond[index]
        return x_t, t.to(x0.device), cond


@dataclass
class ChainStateSource:
    """Algorithm 2: states visited by the base and the expert models' own reverse chains.

    A pool of ``n_chains`` chains per model is sampled once; ``draw`` picks (chain, t) pairs
    uniformly, returning the state x_t at which the reverse step t starts.
    """

    base: GaussianDiffusion
    expert: GaussianDiffusion
    n_chains: int
    seed: int = 0
    cond_sampler: Optional[Callable[[int, torch.Generator], torch.Tensor]] = None

    def __post_init__(self):
        generator = torch.Generator().manual_seed(self.seed)
        states, conds = [], []
        for model in (self.base, self.expert):
            cond = self.cond_sampler(self.n_chains, generator) if self.cond_sampler else None
            noise_seed = int(torch.randint(0, 2**31, (1,), generator=generator))
            noise_gen = torch.Generator(device=model.betas.device).manual_seed(noise_seed)
            chain = model.sample(self.n_chains, cond=None if model is self.base else cond,
                                 generator=noise_gen, return_chain=True).chain
            # chain[:, k] is x_t for t = T - k; keep x_T .. x_1 (the states a reverse step starts from)
            states.append(chain[:, :-1])
            conds.append(cond)
        self.states = torch.cat(states)  # (2 * n_chains, T, *event)
        self.conds = None if conds[0] is None else torch.cat(conds)

    def draw(self, n: int, generator: torch.Generator):
        T = self.base.n_timesteps
        chain = torch.randint(0, self.states.shape[0], (n,), generator=generator)
        k = torch.randint(0, T, (n,), generator=generator)
        device = self.states.device
        x_t = self.states[chain.to(device), k.to(device)]
        t = (T - 1 - k).to(device)
        cond = None if self.conds is None else self.conds[chain.to(device)]
        return x_t, t, cond


class TargetBuffer:
    """Precomputed (mu_B, mu_E - mu_B, t, cond) tuples, computed in large no-grad chunks."""

    def __init__(self, source, base: GaussianDiffusion, expert: GaussianDiffusion, size: int,
                 base_uses_cond: bool = False, chunk: int = 4096, conditions_fn=None, match_fixed: bool = True):
        self.source, self.base, self.expert = source, base, expert
        self.size, self.chunk, self.base_uses_cond = size, chunk, base_uses_cond
        self.conditions_fn, self.match_fixed = conditions_fn, match_fixed

    def fill(self, generator: torch.Generator):
        parts = []
        for start in range(0, self.size, self.chunk):
            n = min(self.chunk, self.size - start)
            x_t, t, cond = self.source.draw(n, generator)
            conditions = self.conditions_fn(x_t) if self.conditions_fn else None
            mu_base, target = reverse_mean_difference(
                self.base, self.expert, x_t, t, cond if self.base_uses_cond else None, cond, conditions)
            free = None if self.match_fixed else free_entries(target, conditions)
            parts.append((mu_base, target, t, cond, free))
        self.mu_base = torch.cat([p[0] for p in parts])
        self.target = torch.cat([p[1] for p in parts])
        self.t = torch.cat([p[2] for p in parts])
        self.cond = None if parts[0][3] is None else torch.cat([p[3] for p in parts])
        self.free = None if parts[0][4] is None else torch.cat([p[4] for p in parts])

    def batch(self, n: int, generator: torch.Generator) -> dict:
        index = torch.randint(0, self.size, (n,), generator=generator).to(self.mu_base.device)
        return {"mu_base": self.mu_base[index], "target": self.target[index], "t": self.t[index],
                "cond": None if self.cond is None else self.cond[index],
                "free": None if self.free is None else self.free[index]}


def make_reward_loss(penalty: float = 0.0, t_weights: Optional[torch.Tensor] = None):
    def loss_fn(reward: nn.Module, batch: dict) -> torch.Tensor:
        return gradient_matching_loss(reward, batch["mu_base"], batch["target"], batch["t"], batch["cond"], penalty,
                                      t_weights, free=batch.get("free"))

    return loss_fn


def per_t_weights(buffer: TargetBuffer, n_timesteps: int) -> torch.Tensor:
    """(T,) weights 1 / E[|mu_E - mu_B|^2 | t], scaled to mean 1 over the buffer: every t then counts by
    its error relative to its own target size. Unweighted, the few steps with the largest targets (t near 0
    in the maze, where the two models differ most) dominate the fit of all the others."""
    return equal_target_size_weights(buffer.target, buffer.t, n_timesteps)


def equal_target_size_weights(target: torch.Tensor, t: torch.Tensor, n_timesteps: int) -> torch.Tensor:
    """(T,) weights 1 / E[|target|^2 | t] for targets (N, ...) at integer steps t (N,), scaled to mean 1 over
    the N samples (see ``per_t_weights``)."""
    energy = target.flatten(1).pow(2).mean(1)
    counts = torch.bincount(t, minlength=n_timesteps)
    per_t = torch.bincount(t, weights=energy, minlength=n_timesteps) / counts.clamp(min=1)
    measured = (counts > 0) & (per_t > 0)
    if not measured.any():
        raise ValueError("every target is zero: there is no target size to weigh the steps by")
    # a step the buffer happens to miss gets the mean size of the measured ones
    per_t = torch.where(measured, per_t, per_t[measured].mean())
    weights = 1.0 / per_t
    return weights / weights[t].mean()


def validation_loss_fn(buffer: TargetBuffer, batch_size: int = 1024, t_weights: Optional[torch.Tensor] = None):
    """Held-out gradient-matching loss over a whole fixed buffer (weighted like training by ``t_weights``)."""

    def validate(reward: nn.Module) -> float:
        total, count = 0.0, 0
        for start in range(0, buffer.size, batch_size):
            s = slice(start, start + batch_size)
            cond = None if buffer.cond is None else buffer.cond[s]
            _, grad = reward_gradient(reward, buffer.mu_base[s], buffer.t[s], cond)
            squared = matching_error(grad, buffer.target[s], None if buffer.free is None else buffer.free[s])
            if t_weights is not None:
                squared = squared * t_weights[buffer.t[s]]
            total += squared.sum().item()
            count += squared.numel()
        return total / count

    return validate


def train_relative_reward(reward: nn.Module, base: GaussianDiffusion, expert: GaussianDiffusion, source,
                          val_source, config, out_dir=None, buffer_size: int = 16384, refresh_every: int = 150,
                          val_size: int = 4096, penalty: float = 0.0, base_uses_cond: bool = False,
                          conditions_fn=None, metadata: Optional[dict] = None,
                          save_dtype: torch.dtype = torch.float32, normalize_per_t: bool = False,
                          match_fixed: bool = True):
    """Fit ``reward`` by gradient matching; returns ``training.TrainResult`` (EMA reward + history).

    Args:
        reward: the reward network r(x, t, cond).
        base, expert: the two diffusion models (same noise schedule), frozen.
        source, val_source: ``NoisedDataSource`` or ``ChainStateSource`` for training and held-out data.
        config: ``training.TrainConfig``.
        buffer_size, refresh_every: targets are precomputed for ``buffer_size`` x_t and redrawn every
            ``refresh_every`` steps.
        penalty: weight of the r^2 penalty (0 in the reference runs).
        base_uses_cond: pass the conditioning vector to the base model too.
        conditions_fn: x_t -> inpainting conditions applied to both reverse means (e.g. the start state).
        save_dtype: dtype of the saved final weights.
        normalize_per_t: weigh each t's squared error by 1 / (its mean squared target), measured once on the
            held-out buffer (``per_t_weights``); False is the reference's unweighted loss.
        match_fixed: also match the gradient on the entries ``conditions_fn`` fixes (True). Those entries are
            inpainted after every reverse step, so their target is 0 and matching it only forbids the reward to
            depend on them (e.g. on the current observation); False leaves them out of the loss.
    """
    from .training import train

    for model in (base, expert):
        model.eval().requires_grad_(False)
    with_stable_mish(reward)  # the loss differentiates grad_x r: torch's fused Mish overflows there
    # rtol 1e-3: a schedule saved in fp16 by an older save_pretrained is still the same schedule
    if base.n_timesteps != expert.n_timesteps or not torch.allclose(base.betas, expert.betas, rtol=1e-3):
        raise ValueError("base and expert must share one noise schedule (same T and betas)")
    buffer = TargetBuffer(source, base, expert, buffer_size, base_uses_cond, conditions_fn=conditions_fn,
                          match_fixed=match_fixed)
    val_buffer = TargetBuffer(val_source, base, expert, val_size, base_uses_cond, conditions_fn=conditions_fn,
                              match_fixed=match_fixed)
    val_buffer.fill(torch.Generator().manual_seed(config.seed + 10_000))
    t_weights = per_t_weights(val_buffer, base.n_timesteps) if normalize_per_t else None
    state = {"draws": 0}

    def sample_batch(n: int, generator: torch.Generator, device):
        if state["draws"] % refresh_every == 0:
            buffer.fill(generator)
        state["draws"] += 1
        return buffer.batch(n, generator)

    return train(reward, make_reward_loss(penalty, t_weights), sample_batch, config, out_dir,
                 validation_loss=validation_loss_fn(val_buffer, t_weights=t_weights), metadata=metadata,
                 save_dtype=save_dtype)
