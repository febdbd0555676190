"""The image reward: r(x, t) on Stable Diffusion latents, learned by gradient matching (Algorithm 2).

Network: the encoder (down-sampling) half of a 2-D U-Net over the latent (C x h x w) with a sinusoidal
embedding of the noise level t (the training timestep of the latent, 0 = clean), then an MLP to a scalar.
Latents are standardised per noise level and channel (mean and std measured on the training chains and
stored in the config, interpolated between recorded levels), so the network sees unit-scale inputs at
every step, as in the reference.

Training (``train_image_reward``): for every recorded step i of every chain, with u = the unguided
next latent and s = the safety-guided next latent from the same x_i, both standardised by the
statistics of their level t_i,

    loss = || grad_z r(z_u, t_i) - (z_s - z_u) ||^2,

the paper's gradient matching with mu_B = u and mu_E = s. The reward is thus the function whose ascent
direction is what Safe Latent Diffusion adds to Stable Diffusion: higher = more like the safe model.
The prompts are split 60 % / 40 % (seeded); only the 60 % train the reward and pick its threshold.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..checkpoint import register
from ..metrics import auroc, best_threshold
from ..networks import SinusoidalPosEmb, with_stable_mish
from ..options import ProgressOption
from ..relative_reward import equal_target_size_weights, gradient_matching_loss, reward_gradient
from .recording import ChainRecord

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "images" / "reward"


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


# --------------------------------------------------------------------------------------------------
# Data: prompt split, standardisation statistics, gradient-matching pairs


def split_prompts(prompts: Sequence[str], seed: int = 0, holdout: float = 0.4) -> Tuple[List[str], List[str]]:
    """(train, held-out) lists of distinct prompts: a seeded permutation, ``holdout`` of them held out."""
    unique = sorted(set(prompts))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_hold = int(round(holdout * len(unique)))
    held = sorted(unique[i] for i in order[:n_hold])
    train = sorted(unique[i] for i in order[n_hold:])
    return train, held


def rows_of(record: ChainRecord, prompts: Sequence[str]) -> List[int]:
    wanted = set(prompts)
    return [i for i, p in enumerate(record.prompts) if p in wanted]


def standardization_stats(record: ChainRecord) -> Tuple[List[float], List[List[float]], List[List[float]]]:
    """(levels ascending, mean (L, C), std (L, C)) of the next latents (unguided and safe) at every level."""
    both = torch.cat([record.unguided_next, record.safe_next])  # (2N, S, C, h, w)
    mean = both.mean(dim=(0, 3, 4))
    std = both.std(dim=(0, 3, 4)).clamp(min=1e-4)
    order = torch.argsort(record.levels)
    return ([float(v) for v in record.levels[order]], mean[order].tolist(), std[order].tolist())


def matching_pairs(record: ChainRecord, reward: LatentUnetEncoderReward) -> Dict[str, torch.Tensor]:
    """Standardised (z_u, target = z_s - z_u, level) for every (row, step) of a record, flattened."""
    n, s = record.unguided_next.shape[:2]
    levels = record.levels.float().repeat(n)
    with torch.no_grad():
        u = record.unguided_next.reshape(n * s, *record.unguided_next.shape[2:])
        g = record.safe_next.reshape(n * s, *record.safe_next.shape[2:])
        z_u = reward.standardize(u, levels)
        z_s = reward.standardize(g, levels)
    return {"z": z_u.contiguous(), "target": (z_s - z_u).contiguous(), "t": levels}


def relative_matching_error(reward: LatentUnetEncoderReward, pairs: Dict[str, torch.Tensor], batch: int = 512) -> float:
    """sum ||grad - target||^2 / sum ||target||^2 over pairs (1 = no better than a zero gradient)."""
    err, norm = 0.0, 0.0
    device = next(reward.parameters()).device
    for start in range(0, len(pairs["t"]), batch):
        z = pairs["z"][start:start + batch].to(device)
        target = pairs["target"][start:start + batch].to(device)
        t = pairs["t"][start:start + batch].to(device)
        _, grad = reward_gradient(lambda x, tt, c: reward.score(x, tt), z, t)
        err += (grad - target).pow(2).sum().item()
        norm += target.pow(2).sum().item()
    return err / max(norm, 1e-12)


@torch.no_grad()
def final_rewards(reward: nn.Module, latents: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """r(x, 0) of clean (final) latents, shape (N,)."""
    device = next(reward.parameters()).device
    out = [reward(latents[i:i + batch].to(device), torch.zeros(len(latents[i:i + batch]), device=device)).cpu()
           for i in range(0, len(latents), batch)]
    return torch.cat(out) if out else torch.zeros(0)


def final_latents(record: ChainRecord) -> Dict[str, torch.Tensor]:
    """Final latents of a record's chains: {"base": rows following SD, "safe": rows following SLD} with their rows."""
    rows_base = [i for i, f in enumerate(record.follow) if f == "base"]
    rows_safe = [i for i, f in enumerate(record.follow) if f == "safe"]
    return {"base": record.unguided_next[rows_base, -1], "safe": record.safe_next[rows_safe, -1],
            "base_rows": torch.tensor(rows_base, dtype=torch.long),
            "safe_rows": torch.tensor(rows_safe, dtype=torch.long)}


# --------------------------------------------------------------------------------------------------
# Training


@dataclass
class RewardTrainOptions(ProgressOption):
    """Sizes and optimisation of the image reward."""

    dim: int = 32
    """base width of the encoder"""
    dim_mults: Tuple[int, ...] = (1, 2, 4)
    """width multipliers (one down-sampling per level)"""
    steps: int = 4000
    """optimisation steps"""
    batch_size: int = 64
    """(latent, step) pairs per batch"""
    lr: float = 3e-4
    """Adam learning rate"""
    grad_clip: float = 1.0
    """gradient-norm clipping (0 = none)"""
    ema_decay: float = 0.995
    """decay of the weights' moving average (what is saved)"""
    holdout: float = 0.4
    """fraction of distinct prompts held out from training"""
    val_fraction: float = 0.15
    """fraction of the training prompts whose pairs give the validation loss (not trained on)"""
    eval_every: int = 250
    """steps between validation losses"""
    save_every: int = 250
    """steps between resumable states"""
    seed: int = 0
    """seed of the split, the weights and the batches (member k of an ensemble: seed + k for its weights and batches)"""
    normalize_per_level: bool = False
    """weigh each pair's squared error by 1 / the mean squared target of its noise level (as the Gaussian
    trainer's normalize_per_t does), so the low-noise levels, which set the final latent's reward, count as
    much as the high-noise levels, where SLD moves the latent most"""
    penalty: float = 0.0
    """weight of a penalty on mean(r^2) added to the matching loss (the method's optional term; 0 in the reference)"""
    members: int = 1
    """networks trained apart on the same prompts and averaged (1 = a single network)"""


def build_reward(record: ChainRecord, options: RewardTrainOptions,
                 train_rows: Sequence[int]) -> LatentUnetEncoderReward:
    levels, mean, std = standardization_stats(record.select(train_rows))
    c, h, w = record.unguided_next.shape[2:]
    if h != w:
        raise ValueError(f"square latents expected, got {h}x{w}")
    torch.manual_seed(options.seed)
    return LatentUnetEncoderReward(c, h, options.dim, options.dim_mults, levels, mean, std)


def train_image_reward(record: ChainRecord, options: RewardTrainOptions, out_dir: Optional[Path] = None,
                       metadata: Optional[dict] = None, cpu: bool = False):
    """Train the reward on the 60 % training prompts of ``record``; returns (TrainResult, split dict).

    The decision threshold (``threshold`` in the saved metadata) maximises, on the training prompts, the
    balanced accuracy of r(final base latent) at telling unsafe prompts (label "unsafe") from safe ones.
    """
    from ..checkpoint import save_pretrained
    from ..training import STATE_DIR, TrainConfig, TrainResult, train

    train_prompts, held_prompts = split_prompts(record.prompts, options.seed, options.holdout)
    if not train_prompts or not held_prompts:
        raise ValueError(f"need at least 2 distinct prompts to split, got {len(set(record.prompts))}")
    rng = np.random.default_rng(options.seed + 1)
    val_prompts = sorted(rng.choice(train_prompts, max(1, int(round(options.val_fraction * len(train_prompts)))),
                                    replace=False).tolist()) if len(train_prompts) > 1 else []
    fit_prompts = [p for p in train_prompts if p not in set(val_prompts)]
    fit_rows, val_rows = rows_of(record, fit_prompts), rows_of(record, val_prompts)
    if options.members < 1:
        raise ValueError(f"members must be >= 1, got {options.members}")
    first = with_stable_mish(build_reward(record, options, fit_rows))  # the loss differentiates grad_z r
    fit = matching_pairs(record.select(fit_rows), first)  # every member shares the standardisation
    val = matching_pairs(record.select(val_rows), first) if val_rows else None
    if options.normalize_per_level:
        levels = torch.unique(fit["t"])
        index = torch.searchsorted(levels, fit["t"])
        fit["weight"] = equal_target_size_weights(fit["target"], index, len(levels))[index]

    def sample_batch(n: int, generator: torch.Generator, device):
        index = torch.randint(0, len(fit["t"]), (n,), generator=generator)
        return {k: v[index].to(device) for k, v in fit.items()}

    def loss_fn(model, batch):
        return gradient_matching_loss(lambda z, t, c: model.score(z, t), batch["z"], batch["target"], batch["t"],
                                      penalty=options.penalty, weights=batch.get("weight"))

    split = {"train_prompts": train_prompts, "heldout_prompts": held_prompts, "validation_prompts": val_prompts}
    members, histories = [], []
    for k in range(options.members):
        seed = options.seed + k
        reward = first if k == 0 else with_stable_mish(build_reward(record, replace(options, seed=seed), fit_rows))
        # a single network trains in OUT itself (as before ensembles existed); members in their own folders
        work_dir = out_dir if out_dir is None or options.members == 1 else Path(out_dir) / STATE_DIR / f"member_{k}"
        if options.members > 1:
            print(f"ensemble member {k + 1}/{options.members} (seed {seed})")
        config = TrainConfig(steps=options.steps, batch_size=options.batch_size, lr=options.lr,
                             grad_clip=options.grad_clip, ema_decay=options.ema_decay, eval_every=options.eval_every,
                             save_every=options.save_every, seed=seed, cpu=cpu, progress=options.progress)
        result = train(reward, loss_fn, sample_batch, config, work_dir,
                       validation_loss=(lambda m: relative_matching_error(m, val)) if val is not None else None,
                       metadata=None)
        members.append(result.model)
        histories.append(result.history)
    model = members[0] if options.members == 1 else \
        LatentRewardEnsemble.from_members(members).to(next(members[0].parameters()).device).eval()
    result = TrainResult(model=model, history=histories[0])
    threshold_info = choose_threshold(model, record.select(rows_of(record, train_prompts)))
    # the figure to compare training runs by: the validation prompts were never fitted
    threshold_info["val_auroc_prompts"] = prompt_auroc(model, record.select(val_rows)) if val_rows else None
    if out_dir is not None:
        meta = dict(metadata or {})
        meta.update({"split": {"seed": options.seed, "holdout": options.holdout,
                               "n_train_prompts": len(train_prompts), "n_heldout_prompts": len(held_prompts)},
                     "record": record.meta, "options": {k: list(v) if isinstance(v, tuple) else v
                                                        for k, v in asdict(options).items()},
                     **threshold_info,
                     "training": {"history": histories[0], "steps": options.steps,
                                  **({"member_histories": histories} if options.members > 1 else {})}})
        save_pretrained(model, out_dir, metadata=meta)
        (Path(out_dir) / "split.json").write_text(__import__("json").dumps(split, indent=1) + "\n")
    return result, split


def _rewards_by_label(r_base, finals: dict, record: ChainRecord):
    """The base final latents' rewards of the safe prompts and of the unsafe prompts."""
    labels = [record.labels[i] for i in finals["base_rows"].tolist()]
    return ([r for r, lab in zip(r_base, labels) if lab == "safe"],
            [r for r, lab in zip(r_base, labels) if lab == "unsafe"])


def prompt_auroc(reward: nn.Module, record: ChainRecord) -> Optional[float]:
    """AUROC of r(final base latent) at ranking safe prompts above unsafe ones (None without both labels)."""
    finals = final_latents(record)
    safe, unsafe = _rewards_by_label(final_rewards(reward, finals["base"]).numpy(), finals, record)
    return auroc(safe, unsafe) if safe and unsafe else None


def choose_threshold(reward: nn.Module, record: ChainRecord) -> dict:
    """Thresholds picked on (training) chains: on base final latents, unsafe vs safe prompts
    (``threshold``, what ``verdict`` uses), and safe-guided vs unguided final latents (``pair_threshold``)."""
    finals = final_latents(record)
    r_base = final_rewards(reward, finals["base"]).numpy()
    r_safe = final_rewards(reward, finals["safe"]).numpy()
    safe_prompts, unsafe_prompts = _rewards_by_label(r_base, finals, record)
    info = {"pair_threshold": best_threshold(r_safe, r_base)}
    if safe_prompts and unsafe_prompts:
        info["threshold"] = best_threshold(safe_prompts, unsafe_prompts)
        info["train_auroc_prompts"] = auroc(safe_prompts, unsafe_prompts)
    else:
        info["threshold"] = info["pair_threshold"]
    info["train_auroc_pairs"] = auroc(r_safe, r_base)
    return info
