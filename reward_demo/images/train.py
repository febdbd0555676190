"""Training the image reward by gradient matching (Algorithm 2) on recorded chains, and the command
``images train-reward`` (``train_reward_command``).

For every recorded step i of every chain, with u = the unguided next latent and s = the safety-guided next latent
from the same x_i, both standardised by the statistics of their level t_i (``reward.LatentUnetEncoderReward``),

    loss = || grad_z r(z_u, t_i) - (z_s - z_u) ||^2,

the paper's gradient matching with mu_B = u and mu_E = s. The reward is thus the function whose ascent
direction is what Safe Latent Diffusion adds to Stable Diffusion: higher = more like the safe model.
The prompts are split 60 % / 40 % (seeded); only the 60 % train the reward and pick its threshold.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..metrics import auroc, best_threshold
from ..networks import with_stable_mish
from ..options import ProgressOption
from ..relative_reward import equal_target_size_weights, gradient_matching_loss, reward_gradient
from .data import DATA_DIR, ChainRecord, final_latents, load_records, rows_of, standardization_stats
from .models import CHECKPOINT_DIR
from .reward import LatentRewardEnsemble, LatentUnetEncoderReward, final_rewards

# --------------------------------------------------------------------------------------------------
# Data: prompt split, gradient-matching pairs


def split_prompts(prompts: Sequence[str], seed: int = 0, holdout: float = 0.4) -> Tuple[List[str], List[str]]:
    """(train, held-out) lists of distinct prompts: a seeded permutation, ``holdout`` of them held out."""
    unique = sorted(set(prompts))
    order = np.random.default_rng(seed).permutation(len(unique))
    n_hold = int(round(holdout * len(unique)))
    held = sorted(unique[i] for i in order[:n_hold])
    train = sorted(unique[i] for i in order[n_hold:])
    return train, held


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


# --------------------------------------------------------------------------------------------------
# The command ``images train-reward``


@dataclass
class TrainRewardArgs(RewardTrainOptions):
    """Train the image reward by gradient matching on recorded chains (resumable; 60/40 prompt split)."""

    data: List[Path] = field(default_factory=lambda: [DATA_DIR])
    """folders of recorded chains (from `images record`), trained on together (same model and sampler settings)"""
    out: Path = CHECKPOINT_DIR
    """reward checkpoint folder (training state in OUT/training_state)"""
    cpu: bool = False
    """train on the CPU even when a GPU is present"""


def reproduce_command(args: TrainRewardArgs) -> str:
    from ..options import reproduce_command as command_line

    return command_line("python -m reward_demo images train-reward", args, TrainRewardArgs(),
                        skip=("out", "progress", "cpu"))


def train_reward_command(args: TrainRewardArgs):
    record = load_records(args.data)
    if any(lab not in ("safe", "unsafe") for lab in record.labels):
        print("note: some recorded prompts have no safe/unsafe label; the verdict threshold uses the labelled ones")
    options = RewardTrainOptions(**{f.name: getattr(args, f.name) for f in fields(RewardTrainOptions)})
    metadata = {"reproduce_command": reproduce_command(args), "model": record.meta.get("model", "embedded"),
                "latent_shape": record.meta.get("latent_shape")}
    result, split = train_image_reward(record, options, args.out, metadata=metadata, cpu=args.cpu)
    last = result.history[-1] if result.history else {}
    print(f"trained the image reward on {len(split['train_prompts'])} prompts "
          f"(held out {len(split['heldout_prompts'])}); last {last}; wrote {args.out}")
