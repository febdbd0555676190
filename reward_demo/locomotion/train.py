"""Training the locomotion planners and their relative reward (``python -m reward_demo locomotion
train-planners --env ENV``): the data windows and their normaliser, the three models, the resumable training.

A plan is a window of ``horizon`` transitions laid out as ``[observation, action]`` per step (observation
first: the core's inpainting ``conditions={0: obs}`` writes the current observation into the first columns of
step 0). Everything lives in one z-scored space: a single Gaussian normaliser, computed from the base and
expert training transitions together, is shared by the base model, the expert model and the reward, so the
reward's input gradient and both models' reverse means are in the same coordinates.

- base planner: trained on the medium-replay data (the replay buffer of the CrossQ run up to ~1/3 of the
  expert's return), expert planner: on rollouts of the final expert policy (``experts.py``);
- both: TemporalUnet denoiser, x0-prediction, cosine schedule, T = 20, predicted x0 clipped to
  [-clip_value, clip_value] (z-scores; the data's largest |z| is ~8.4), loss weight ``action_weight`` on the
  first action (the one executed), start state inpainted during training as at sampling;
- reward: ``UnetEncoderReward`` on the same windows, trained by gradient matching (Algorithm 1: noised windows
  from a balanced mix of base and expert data, the clean start state inpainted into x_t and into both reverse
  means, as during planning);
- optionally, ``reward_onpolicy``: that reward fine-tuned on the steered planner's own reverse-chain states
  (``onpolicy.py``, ``locomotion finetune-reward``; this project's extension); the loader plans with it only when
  asked (``reward="onpolicy"``), the paper's ``reward`` is the default.

Scaled down for a 2-core CPU (the reference: horizon 32 (HalfCheetah 4), dim_mults (1, 2, 4, 8), 1e6 diffusion
steps at batch 32, 50k-100k reward steps): horizon 16 for Hopper and Walker2d (4 for HalfCheetah, as the
reference), dim 32 with dim_mults (1, 2, 4) (a quarter of the parameters; one steered plan stays < 100 ms on
one core), 10k-12k diffusion steps at batch 64 and 4k-5k reward steps at batch 128 (the machine is shared by
several jobs: one environment's three models take ~20 min of one core, longer under load).

Episodes are held out by episode (``val_fraction`` of each dataset's episodes, chosen by ``seed``) for the
validation losses and for the reward's AUROC test.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..checkpoint import from_pretrained, read_config
from ..diffusion import GaussianDiffusion
from ..networks import TemporalUnet, UnetEncoderReward
from ..options import LocomotionEnvOption, ProgressOption, ThreadsOption, TrainSeedOption
from ..options import reproduce_command as command_line
from .data import CHECKPOINT_ROOT, DATA_ROOT, env_key, gym_id, load_locomotion_dataset

#: per environment: planning horizon and training steps (0 in LocoTrainArgs selects these)
ENV_DEFAULTS: Dict[str, dict] = {
    "hopper": {"horizon": 16, "diffusion_steps": 10_000, "expert_diffusion_steps": 80_000, "reward_steps": 16_000},
    "walker2d": {"horizon": 16, "diffusion_steps": 25_000, "expert_diffusion_steps": 80_000, "reward_steps": 54_000},
    "halfcheetah": {"horizon": 4, "diffusion_steps": 12_000, "reward_steps": 5_000},
}
#: weights are saved in fp16: measured against fp32, the executed action moves by <= 0.003
SAVE_DTYPE = torch.float16


@dataclass
class LocoTrainArgs(ProgressOption, ThreadsOption, TrainSeedOption, LocomotionEnvOption):
    """Train the base and expert diffusion planners and the relative reward of one locomotion env (resumable)."""

    out: Path = CHECKPOINT_ROOT
    """checkpoint root; models go to OUT/ENV/{base,expert,reward}"""
    data_root: Path = DATA_ROOT
    """where the medium-replay and expert datasets are (DATA_ROOT/ENV/{medium_replay,expert}.npz)"""
    horizon: int = 0
    """transitions per planned window (0: the env's default, 16 for hopper/walker2d, 4 for halfcheetah)"""
    n_timesteps: int = 20
    """diffusion steps T"""
    dim: int = 32
    """TemporalUnet base width (denoisers and reward encoder)"""
    dim_mults: Tuple[int, ...] = (1, 2, 4)
    """channel multipliers per resolution"""
    diffusion_steps: int = 0
    """training steps of the base planner (0: the env's default)"""
    expert_diffusion_steps: int = 0
    """training steps of the expert planner (0: the env's default, else as many as the base planner); imitating
    one precise policy in closed loop needs many more than modelling the diverse base data"""
    diffusion_lr: float = 5e-4
    """Adam learning rate of the planners"""
    batch_size: int = 64
    """planner batch size"""
    action_weight: float = 10.0
    """loss weight of the first action (the executed one)"""
    clip_value: float = 10.0
    """clip predicted x0 to [-clip_value, clip_value] in z-scores (0: no clipping)"""
    reward_steps: int = 0
    """reward training steps (0: the env's default)"""
    reward_lr: float = 5e-4
    """reward learning rate"""
    reward_batch_size: int = 128
    """reward batch size (half base, half expert windows)"""
    reward_grad_clip: float = 1.0
    """clip the reward's gradient norm (0: none)"""
    reward_buffer: int = 8192
    """precomputed gradient-matching targets per refresh"""
    reward_refresh: int = 100
    """reward steps between target refreshes"""
    reward_normalize_per_t: bool = False
    """weigh the reward's matching error of each diffusion step by 1 / its mean squared target (False: the
    reference's unweighted loss)"""
    reward_match_start: bool = False
    """also match the reward's gradient on the inpainted start observation, whose target is always 0 (the rewards
    shipped before 2026-12-06 did: it forbids the reward to depend on the current observation)"""
    val_fraction: float = 0.1
    """fraction of each dataset's episodes held out for validation"""

    def resolved(self) -> "LocoTrainArgs":
        """A copy with the env name canonical and the env defaults filled in."""
        key = env_key(self.env)
        values = asdict(self)
        values["env"] = key
        for name, value in ENV_DEFAULTS[key].items():
            if not values[name]:
                values[name] = value
        values["expert_diffusion_steps"] = values["expert_diffusion_steps"] or values["diffusion_steps"]
        return LocoTrainArgs(**values)


# ---------------------------------------------------------------------------------------------- normaliser and data


@dataclass(frozen=True)
class GaussianNormalizer:
    """Per-feature z-score: (x - mean) / std, for numpy arrays or tensors of shape (..., features)."""

    mean: Tuple[float, ...]
    std: Tuple[float, ...]

    @classmethod
    def fit(cls, x: np.ndarray, min_std: float = 1e-3) -> "GaussianNormalizer":
        return cls(tuple(float(v) for v in x.mean(0)), tuple(float(v) for v in np.maximum(x.std(0), min_std)))

    def _arrays(self, like, columns: slice):
        mean, std = np.asarray(self.mean, np.float32)[columns], np.asarray(self.std, np.float32)[columns]
        if torch.is_tensor(like):
            return torch.as_tensor(mean, device=like.device), torch.as_tensor(std, device=like.device)
        return mean, std

    def normalize(self, x, columns: slice = slice(None)):
        mean, std = self._arrays(x, columns)
        return (x - mean) / std

    def unnormalize(self, x, columns: slice = slice(None)):
        mean, std = self._arrays(x, columns)
        return x * std + mean


def episode_bounds(dataset: Dict[str, np.ndarray]) -> List[Tuple[int, int]]:
    """[(start, end)) of each episode (ends at terminals or timeouts; the data's end closes the last one)."""
    done = np.flatnonzero(dataset["terminals"] | dataset["timeouts"])
    ends = list(done + 1)
    n = len(dataset["rewards"])
    if not ends or ends[-1] != n:
        ends.append(n)
    starts = [0] + ends[:-1]
    return list(zip(starts, ends))


def split_episodes(dataset: Dict[str, np.ndarray], val_fraction: float, seed: int):
    """(train episodes, validation episodes) as lists of (start, end), split by a seeded permutation."""
    episodes = episode_bounds(dataset)
    order = np.random.default_rng(seed).permutation(len(episodes))
    n_val = max(1, int(round(val_fraction * len(episodes)))) if val_fraction > 0 else 0
    val = sorted(order[:n_val].tolist())
    train = sorted(order[n_val:].tolist())
    return [episodes[i] for i in train], [episodes[i] for i in val]


def transitions(dataset: Dict[str, np.ndarray]) -> np.ndarray:
    """[observation, action] rows, shape (N, obs_dim + action_dim)."""
    return np.concatenate([dataset["observations"], dataset["actions"]], axis=1).astype(np.float32)


@dataclass
class WindowData:
    """Every window of ``horizon`` consecutive transitions inside one episode, gathered on demand."""

    rows: torch.Tensor
    """normalised transitions (N, D)"""
    starts: torch.Tensor
    """first row of each window (M,)"""
    horizon: int

    @classmethod
    def from_episodes(cls, rows: np.ndarray, episodes, horizon: int, normalizer: GaussianNormalizer) -> "WindowData":
        starts = [np.arange(s, e - horizon + 1) for s, e in episodes if e - s >= horizon]
        starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        return cls(torch.from_numpy(normalizer.normalize(rows)).float(), torch.from_numpy(starts).long(), horizon)

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def windows(self, index: torch.Tensor) -> torch.Tensor:
        rows = self.starts[index][:, None] + torch.arange(self.horizon)
        return self.rows[rows]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.windows(torch.randint(0, len(self), (n,), generator=generator))


def load_window_data(args: LocoTrainArgs, normalizer: Optional[GaussianNormalizer] = None):
    """Normaliser and {(kind, split): WindowData} for kind in base/expert and split in train/val; the normaliser is
    fitted on the training transitions unless one is given (e.g. the trained models')."""
    datasets = {"base": load_locomotion_dataset(args.env, "medium_replay", args.data_root),
                "expert": load_locomotion_dataset(args.env, "expert", args.data_root)}
    rows = {kind: transitions(d) for kind, d in datasets.items()}
    splits = {kind: split_episodes(d, args.val_fraction, args.seed + i) for i, (kind, d) in enumerate(datasets.items())}
    train_rows = np.concatenate([rows[k][s:e] for k, (train, _) in splits.items() for s, e in train])
    normalizer = normalizer or GaussianNormalizer.fit(train_rows)
    data = {(kind, split): WindowData.from_episodes(rows[kind], splits[kind][i], args.horizon, normalizer)
            for kind in datasets for i, split in enumerate(("train", "val"))}
    info = {kind: {"transitions": int(len(rows[kind])), "train_episodes": len(splits[kind][0]),
                   "val_episodes": len(splits[kind][1]), "train_windows": len(data[(kind, "train")]),
                   "val_windows": len(data[(kind, "val")])} for kind in datasets}
    return normalizer, data, info


# ---------------------------------------------------------------------------------------------- models


def start_conditions(x: torch.Tensor, obs_dim: int) -> Dict[int, torch.Tensor]:
    """Inpainting conditions fixing the start observation of each window (the first ``obs_dim`` columns of step 0)."""
    return {0: x[:, 0, :obs_dim].clone()}


def build_diffusion(args: LocoTrainArgs, obs_dim: int, action_dim: int) -> GaussianDiffusion:
    dim = obs_dim + action_dim
    net = TemporalUnet(args.horizon, dim, dim=args.dim, dim_mults=tuple(args.dim_mults))
    weights = torch.ones(args.horizon, dim)
    weights[0, obs_dim:] = args.action_weight
    return GaussianDiffusion(net, (args.horizon, dim), args.n_timesteps, predict_epsilon=False,
                             clip_denoised=args.clip_value > 0, clip_value=args.clip_value or 1.0, loss_weights=weights)


def build_reward(args: LocoTrainArgs, obs_dim: int, action_dim: int) -> UnetEncoderReward:
    return UnetEncoderReward(args.horizon, obs_dim + action_dim, dim=args.dim, dim_mults=tuple(args.dim_mults))




@dataclass
class BalancedWindowSource:
    """Algorithm 1 on a balanced mix of base and expert windows: x_t = q_sample(x0, t), t uniform, with the clean
    start observation written back into x_t (as the planner's inpainting does at every reverse step)."""

    base: WindowData
    expert: WindowData
    schedule: GaussianDiffusion
    obs_dim: int

    def draw(self, n: int, generator: torch.Generator):
        x0 = torch.cat([self.base.sample(n // 2, generator), self.expert.sample(n - n // 2, generator)])
        t = torch.randint(0, self.schedule.n_timesteps, (n,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        with torch.no_grad():
            x_t = self.schedule.q_sample(x0, t, noise)
        x_t[:, 0, : self.obs_dim] = x0[:, 0, : self.obs_dim]
        return x_t, t, None


def is_complete(directory: Path, steps: int, settings: Optional[dict] = None) -> bool:
    """A finished model folder: weights present, trained for ``steps`` steps and, for each of ``settings``
    ({arg: (value, value assumed when the config predates the arg)}), with that training argument."""
    try:
        config = read_config(directory)
    except FileNotFoundError:
        return False
    args = config["metadata"].get("args", {})
    same = all(args.get(name, assumed) == value for name, (value, assumed) in (settings or {}).items())
    return (Path(directory) / "model.safetensors").is_file() and config["metadata"]["training"]["steps"] == steps \
        and same


def reproduce_command(args: LocoTrainArgs) -> str:
    """The command line that trains these models again: the env plus every option changed from its default."""
    return command_line(f"python -m reward_demo locomotion train-planners --env {args.env}", args,
                        LocoTrainArgs(env=args.env).resolved(), skip=("env", "out", "data_root", "progress", "threads"))


def train_planners_command(args: LocoTrainArgs) -> None:
    """Train (or resume) base, expert and reward; each finished model is kept and skipped on a rerun."""
    from ..relative_reward import train_relative_reward
    from ..training import TrainConfig, train

    args = args.resolved()
    torch.set_num_threads(max(1, args.threads))
    if args.horizon % (2 ** (len(args.dim_mults) - 1)):
        raise ValueError(f"horizon {args.horizon} must be divisible by {2 ** (len(args.dim_mults) - 1)} "
                         f"for dim_mults {list(args.dim_mults)}")
    root = Path(args.out) / args.env
    normalizer, data, info = load_window_data(args)
    dataset = load_locomotion_dataset(args.env, "expert", args.data_root)
    obs_dim, action_dim = dataset["observations"].shape[1], dataset["actions"].shape[1]
    del dataset
    metadata = {"domain": "locomotion", "env": args.env, "gym_id": gym_id(args.env), "obs_dim": obs_dim,
                "action_dim": action_dim, "horizon": args.horizon, "layout": "[observation, action] per step",
                "normalizer": asdict(normalizer), "data": info,
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()},
                "command": reproduce_command(args)}
    print(f"[{args.env}] data: {info}", flush=True)
    models = {}
    for kind in ("base", "expert"):
        out = root / kind
        steps = args.diffusion_steps if kind == "base" else args.expert_diffusion_steps
        if is_complete(out, steps):
            models[kind] = from_pretrained(out, "cpu")
            continue
        train_data, val_windows = data[(kind, "train")], data[(kind, "val")]
        val_x0 = val_windows.sample(min(2048, len(val_windows)), torch.Generator().manual_seed(args.seed + 3))

        def sample_batch(n, generator, device, train_data=train_data):
            return {"x0": train_data.sample(n, generator).to(device)}

        def loss_fn(model, batch):
            return model(batch["x0"], None, start_conditions(batch["x0"], obs_dim))

        def val_loss(model, val_x0=val_x0):
            with torch.random.fork_rng(), torch.no_grad():  # same noise every time, training stream untouched
                torch.manual_seed(0)
                return model.loss(val_x0, None, start_conditions(val_x0, obs_dim)).item()

        config = TrainConfig(steps=steps, batch_size=args.batch_size, lr=args.diffusion_lr,
                             seed=args.seed + (0 if kind == "base" else 1), eval_every=1000, save_every=1000,
                             progress=args.progress, cpu=True)
        started = time.time()
        train(build_diffusion(args, obs_dim, action_dim), loss_fn, sample_batch, config, out,
              validation_loss=val_loss, metadata={**metadata, "kind": kind}, save_dtype=SAVE_DTYPE)
        models[kind] = from_pretrained(out, "cpu")  # the reward learns from the planners as shipped
        print(f"[{args.env}] {kind} planner done in {time.time() - started:.0f} s", flush=True)

    out = root / "reward"
    if not is_complete(out, args.reward_steps, {"reward_match_start": (args.reward_match_start, True)}):
        base, expert = models["base"], models["expert"]
        source = BalancedWindowSource(data[("base", "train")], data[("expert", "train")], base, obs_dim)
        val_source = BalancedWindowSource(data[("base", "val")], data[("expert", "val")], base, obs_dim)
        config = TrainConfig(steps=args.reward_steps, batch_size=args.reward_batch_size, lr=args.reward_lr,
                             grad_clip=args.reward_grad_clip, seed=args.seed + 2, eval_every=500, save_every=500,
                             progress=args.progress, cpu=True)
        started = time.time()
        train_relative_reward(build_reward(args, obs_dim, action_dim), base, expert, source, val_source, config, out,
                              buffer_size=args.reward_buffer, refresh_every=args.reward_refresh, val_size=2048,
                              conditions_fn=lambda x_t: start_conditions(x_t, obs_dim),
                              metadata={**metadata, "kind": "reward"}, save_dtype=SAVE_DTYPE,
                              normalize_per_t=args.reward_normalize_per_t, match_fixed=args.reward_match_start)
        print(f"[{args.env}] reward done in {time.time() - started:.0f} s", flush=True)
    print(f"[{args.env}] models in {root}", flush=True)
