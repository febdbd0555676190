"""The image reward r(x, t) on Stable Diffusion latents and ``final_rewards`` (built and trained by ``train.py``,
loaded by ``models.load_reward``; what it reads of recorded chains is in ``data.py``).

Network: the encoder (down-sampling) half of a 2-D U-Net over the latent (C x h x w) with a sinusoidal
embedding of the noise level t (the training timestep of the latent, 0 = clean), then an MLP to a scalar.
Latents are standardised per noise level and channel (mean and std measured on the training chains and
stored in the config, interpolated between recorded levels), so the network sees unit-scale inputs at
every step, as in the reference. ``LatentRewardEnsemble`` averages several such networks.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..checkpoint import register
from ..networks import SinusoidalPosEmb


class ResidualBlock2d(nn.Module):
    """Two (Conv3x3 -> GroupNorm -> Mish) layers, the noise-level embedding added in between, a residual."""

    def __init__(self, inp: int, out: int, embed_dim: int, groups: int = 8):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(inp, out, 3, padding=1), nn.GroupNorm(groups, out), nn.Mish())
        self.conv2 = nn.Sequential(nn.Conv2d(out, out, 3, padding=1), nn.GroupNorm(groups, out), nn.Mish())
        self.time = nn.Sequential(nn.Mish(), nn.Linear(embed_dim, out))
        self.residual = nn.Conv2d(inp, out, 1) if inp != out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(x) + self.time(emb)[:, :, None, None]
        return self.conv2(h) + self.residual(x)


def _interpolate_rows(levels: torch.Tensor, table: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Row-wise linear interpolation of ``table`` (L, C) at levels ``t`` (B,), clamped at the ends."""
    t = t.float().clamp(levels[0], levels[-1])
    upper = torch.searchsorted(levels, t).clamp(1, len(levels) - 1) if len(levels) > 1 else torch.zeros_like(t).long()
    lower = (upper - 1).clamp(min=0)
    span = (levels[upper] - levels[lower]).clamp(min=1e-6)
    w = ((t - levels[lower]) / span).clamp(0, 1)[:, None]
    return table[lower] * (1 - w) + table[upper] * w


@register
class LatentUnetEncoderReward(nn.Module):
    """r(x, t): the down half of a 2-D U-Net on latents (C x h x w) plus the noise level t -> a scalar.

    Args:
        in_channels: latent channels (4 for Stable Diffusion).
        sample_size: latent side (h = w).
        dim: base width; dim_mults: width multipliers, one stride-2 down-sampling per level.
        levels: noise levels (ascending) at which standardisation statistics were measured.
        mean, std: per level and channel, shape (len(levels), in_channels).
    """

    def __init__(self, in_channels: int = 4, sample_size: int = 16, dim: int = 32, dim_mults: Sequence[int] = (1, 2, 4),
                 levels: Sequence[float] = (0.0,), mean: Optional[Sequence[Sequence[float]]] = None,
                 std: Optional[Sequence[Sequence[float]]] = None):
        super().__init__()
        levels = [float(v) for v in levels]
        mean = [[0.0] * in_channels for _ in levels] if mean is None else [[float(v) for v in row] for row in mean]
        std = [[1.0] * in_channels for _ in levels] if std is None else [[float(v) for v in row] for row in std]
        if sorted(levels) != levels or len(set(levels)) != len(levels):
            raise ValueError("levels must be strictly increasing")
        if np.shape(mean) != (len(levels), in_channels) or np.shape(std) != (len(levels), in_channels):
            raise ValueError(f"mean and std must have shape ({len(levels)}, {in_channels})")
        # statistics live in the config (JSON), so they are buffers outside the weights file
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        self.register_buffer("mean", torch.tensor(mean), persistent=False)
        self.register_buffer("std", torch.tensor(std), persistent=False)
        self.time_mlp = nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, dim * 4), nn.Mish(),
                                      nn.Linear(dim * 4, dim))
        widths = [in_channels] + [dim * m for m in dim_mults]
        self.blocks = nn.ModuleList()
        side = sample_size
        for d_in, d_out in zip(widths[:-1], widths[1:]):
            self.blocks.append(nn.ModuleList([ResidualBlock2d(d_in, d_out, dim), nn.Conv2d(d_out, d_out, 3, 2, 1)]))
            side = (side + 1) // 2
        mid = widths[-1]
        self.mid = ResidualBlock2d(mid, mid // 2, dim)
        flat = (mid // 2) * side * side
        self.head = nn.Sequential(nn.Linear(flat + dim, flat // 2), nn.Mish(), nn.Linear(flat // 2, 1))

    def standardize(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """(x - mean(t)) / std(t), per channel, statistics interpolated between recorded levels."""
        t = torch.as_tensor(t, device=x.device).reshape(-1).expand(x.shape[0])
        mean = _interpolate_rows(self.levels, self.mean, t)[:, :, None, None]
        std = _interpolate_rows(self.levels, self.std, t)[:, :, None, None]
        return (x - mean) / std

    def score(self, z: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The reward of standardised latents z at noise levels t, shape (batch,)."""
        t = torch.as_tensor(t, device=z.device).reshape(-1).expand(z.shape[0])
        emb = self.time_mlp(t)
        h = z
        for block, down in self.blocks:
            h = down(block(h, emb))
        h = self.mid(h, emb).flatten(1)
        return self.head(torch.cat([h, emb], dim=-1)).squeeze(-1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The reward of raw latents x (batch, C, h, w) at noise levels t (batch,) or a scalar level."""
        if x.dim() != 4 or x.shape[1] != self.config["in_channels"] or x.shape[-1] != self.config["sample_size"]:
            raise ValueError(f"latents of shape (batch, {self.config['in_channels']}, {self.config['sample_size']}, "
                             f"{self.config['sample_size']}) expected, got {tuple(x.shape)}")
        return self.score(self.standardize(x.float(), t), t)


@register
class LatentRewardEnsemble(nn.Module):
    """The mean of ``members`` rewards of one architecture and one standardisation, trained apart from
    different seeds on the same prompts. The mean's gradient is the mean of the members' gradients, so it
    matches the guidance as each member does, with less of each network's own error.

    Args:
        members: how many networks; the other arguments are those of ``LatentUnetEncoderReward``.
    """

    def __init__(self, members: int = 2, **member_config):
        super().__init__()
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        self.members = nn.ModuleList(LatentUnetEncoderReward(**member_config) for _ in range(members))

    @classmethod
    def from_members(cls, rewards: Sequence[LatentUnetEncoderReward]) -> "LatentRewardEnsemble":
        """An ensemble holding copies of trained ``rewards``, which must share one config."""
        if not rewards or any(r.config != rewards[0].config for r in rewards):
            raise ValueError("the members of an ensemble must be rewards with one config (sizes and statistics)")
        ensemble = cls(len(rewards), **rewards[0].config)
        for member, reward in zip(ensemble.members, rewards):
            member.load_state_dict(reward.state_dict())
        return ensemble

    def standardize(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.members[0].standardize(x, t)

    def score(self, z: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The mean reward of the members on standardised latents z, shape (batch,)."""
        return torch.stack([member.score(z, t) for member in self.members]).mean(0)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond=None) -> torch.Tensor:
        """The mean reward of the members on raw latents x (batch, C, h, w) at noise levels t."""
        return torch.stack([member(x, t) for member in self.members]).mean(0)


@torch.no_grad()
def final_rewards(reward: nn.Module, latents: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """r(x, 0) of clean (final) latents, shape (N,)."""
    device = next(reward.parameters()).device
    out = [reward(latents[i:i + batch].to(device), torch.zeros(len(latents[i:i + batch]), device=device)).cpu()
           for i in range(0, len(latents), batch)]
    return torch.cat(out) if out else torch.zeros(0)
