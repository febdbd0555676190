"""Held-out evaluation of reward steering on the locomotion tasks.

- ``python -m reward_demo locomotion sweep --env ENV [--reward paper|onpolicy]``: on *validation* reset seeds
  (default 200000...), runs the unsteered base planner and every (scale, t_stopgrad) of a grid in one batch
  (shorter episodes), and picks the setting with the best mean normalised score: the defaults
  (``models.DEFAULT_STEERING``) of the Algorithm 1 rewards (an on-policy fine-tuned reward brings the steering
  it was fitted for, ``models.steering_of``).
- ``python -m reward_demo locomotion evaluate --env ENV --episodes N --seed S [--reward paper|onpolicy]
  [--scale X] [--t-stopgrad K] --json OUT``: on *fresh* reset seeds S .. S+N-1 (default 100000...: the datasets
  used reset seeds 0 and 20000-20200, the expert's evaluations 1000 + 5000 k + i (i < 5) and 10000-10009), runs
  the unsteered and the steered base planner with the same seeds and the same planner noise, and reports the
  mean, standard error and bootstrap 95 % CI of the D4RL-normalised score of each, the paired difference
  (steered - base) with its bootstrap CI, and the expert policy's score on the same seeds; writes JSON and a
  PNG. ``--reward``: the paper's offline reward (``paper``, the default) or this project's on-policy fine-tuned
  extension (``onpolicy``, Hopper and Walker2d); the JSON records which (``reward``: name, label, folder, kind)
  next to the steering.
- ``python -m reward_demo locomotion report``: merges the per-env sweep and evaluation JSONs into
  assets/locomotion_eval.json and assets/locomotion_eval.png.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Sequence, Tuple

import numpy as np

from ..metrics import auroc, bootstrap_ci
from ..options import LocomotionCheckpointsOption, LocomotionEnvOption
from .data import env_key, normalized_score
from .experts import evaluate as evaluate_policy
from .experts import load_expert_policy
from .inference import EpisodeBatch, rollout
from .models import DEFAULT_REWARD, REWARD_LABELS, LocomotionModels, load_locomotion_models
from .report import RUNS, plot_evaluations  # noqa: E402

#: the --reward choices (models.REWARDS)
RewardName = Literal["paper", "onpolicy"]


def summary(values: Sequence[float], n_boot: int = 10_000, seed: int = 0) -> dict:
    """Mean, standard error, bootstrap 95 % CI and n of a sample."""
    values = np.asarray(values, dtype=np.float64)
    se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    low, high = bootstrap_ci(values, n_boot, seed)
    return {"mean": float(values.mean()), "se": se, "ci95": [low, high], "n": int(len(values))}


def batch_summary(batch: EpisodeBatch, n_boot: int, seed: int) -> dict:
    return {"score": summary(batch.scores, n_boot, seed), "return_mean": float(batch.returns.mean()),
            "length_mean": float(batch.lengths.mean()), "fell": int(batch.terminated.sum()),
            "learned_reward_mean": float(np.mean([r.mean() for r in batch.learned_rewards if len(r)])),
            "scores": batch.scores.tolist(), "lengths": batch.lengths.tolist(), "seconds": batch.seconds}


def check_counts(episodes: int, max_steps: int) -> None:
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not 1 <= max_steps <= 1000:
        raise ValueError(f"max_steps must be in [1, 1000], got {max_steps}")


# ---------------------------------------------------------------------------------------------- reward check


def heldout_reward_auroc(models: LocomotionModels, n_windows: int = 512, expert_steps: int = 2000,
                         seed: int = 300_000, t: int = 0) -> dict:
    """AUROC of the learned reward r(w, t) at telling held-out expert windows from held-out base windows.

    Base: windows of the medium-replay episodes held out from training (the validation split recorded in the
    checkpoint). Expert: windows of fresh rollouts of the expert policy (reset seeds SEED..., action noise 0.02 as
    in the expert dataset), never seen in training.
    """
    import torch

    from .data import load_locomotion_dataset
    from .experts import rollout_dataset
    from .train import WindowData, episode_bounds, split_episodes, transitions

    meta = models.reward.metadata["args"]
    base = load_locomotion_dataset(models.env, "medium_replay")
    _, val_episodes = split_episodes(base, float(meta["val_fraction"]), int(meta["seed"]))
    base_windows = WindowData.from_episodes(transitions(base), val_episodes, models.horizon, models.normalizer)
    expert = rollout_dataset(load_expert_policy(models.env), models.env, expert_steps, seed, noise=0.02)
    expert_windows = WindowData.from_episodes(transitions(expert), episode_bounds(expert), models.horizon,
                                              models.normalizer)
    generator = torch.Generator().manual_seed(seed)
    scores = []
    with torch.no_grad():
        for windows in (expert_windows, base_windows):
            x = windows.sample(n_windows, generator).to(models.device)
            steps = torch.full((n_windows,), int(t), dtype=torch.long, device=models.device)
            scores.append(models.reward(x, steps).cpu().numpy())
    return {"auroc": auroc(scores[0], scores[1]), "t": int(t), "n_windows": n_windows,
            "expert_reward_mean": float(scores[0].mean()), "base_reward_mean": float(scores[1].mean())}


# ---------------------------------------------------------------------------------------------- sweep


@dataclass
class LocoSweepArgs(LocomotionCheckpointsOption, LocomotionEnvOption):
    """Choose the steering scale and t_stopgrad on validation seeds (all settings run as one batch); JSON."""

    episodes: int = 6
    """episodes per setting (reset seeds SEED .. SEED+EPISODES-1, the same for every setting)"""
    seed: int = 200_000
    """first validation reset seed (keep apart from the evaluation seeds, 100000...)"""
    max_steps: int = 300
    """episode length cap (shorter than the evaluation's 1000 to fit the CPU)"""
    scales: Tuple[float, ...] = (0.5, 0.3, 0.2, 0.1, 0.01)
    """steering scales of the grid (the reference's)"""
    t_stopgrads: Tuple[int, ...] = (0, 2, 5, 10)
    """t_stopgrad values of the grid (the reference's)"""
    t_startgrads: Tuple[int, ...] = ()
    """t_startgrad values of the grid (guidance only at reverse steps t < t_startgrad; this project's option);
    empty: guidance from the first reverse step"""
    json: Optional[Path] = None
    """output (default runs/locomotion_sweep_ENV.json)"""
    generator_seed: int = 1
    """seed of the planner noise"""
    guidance: Optional[str] = None
    """input (the reference's: gradient added to x_t before each reverse step) or mean (added to the base's reverse
    mean); default: the guidance the env's reward is meant for (input, or mean for an on-policy fine-tuned reward)"""
    reward: RewardName = DEFAULT_REWARD
    """paper: the paper's offline reward (Algorithm 1); onpolicy: this project's on-policy fine-tuned extension"""


def sweep(models: LocomotionModels, args: LocoSweepArgs) -> dict:
    """Scores of the unsteered base planner and every grid setting on the same validation seeds."""
    check_counts(args.episodes, args.max_steps)
    T = models.n_timesteps
    starts = [int(b) for b in args.t_startgrads] or [T]
    settings = [(0.0, 0, T)] + [(float(s), int(k), b) for s in args.scales for k in args.t_stopgrads for b in starts]
    seeds = list(range(args.seed, args.seed + args.episodes))
    all_seeds = seeds * len(settings)
    scales, stops, begins = (np.repeat([setting[j] for setting in settings], len(seeds)) for j in range(3))
    guidance = args.guidance or models.guidance
    batch = rollout(models, all_seeds, scales, stops, args.max_steps, "base", generator_seed=args.generator_seed,
                    guidance=guidance, t_startgrads=begins)
    rows = []
    for i, (scale, stop, begin) in enumerate(settings):
        part = slice(i * len(seeds), (i + 1) * len(seeds))
        scores = batch.scores[part]
        rows.append({"scale": scale, "t_stopgrad": stop, **({"t_startgrad": begin} if args.t_startgrads else {}),
                     "score_mean": float(scores.mean()),
                     "score_se": float(scores.std(ddof=1) / np.sqrt(len(scores))) if len(scores) > 1 else None,
                     "length_mean": float(batch.lengths[part].mean()), "scores": scores.tolist()})
    steered = [r for r in rows if r["scale"] > 0]
    best = max(steered, key=lambda r: r["score_mean"])
    chosen = {key: best[key] for key in ("scale", "t_stopgrad", "t_startgrad") if key in best}
    return {"env": models.env, "seeds": seeds, "max_steps": args.max_steps, "generator_seed": args.generator_seed,
            "guidance": guidance, "reward": models.reward_info(),
            "rows": rows, "unsteered_score_mean": rows[0]["score_mean"],
            "chosen": chosen, "seconds": batch.seconds}


def _command_models(args) -> Tuple[str, LocomotionModels]:
    """(env key, models on the CPU) for a sweep/evaluate command; one torch thread (small batches)."""
    import torch

    torch.set_num_threads(1)
    key = env_key(args.env)
    root = str(args.checkpoints) if args.checkpoints else None
    return key, load_locomotion_models(key, root, "cpu", getattr(args, "reward", DEFAULT_REWARD))


def _write_json(result: dict, path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return out


def sweep_command(args: LocoSweepArgs) -> None:
    key, models = _command_models(args)
    result = sweep(models, args)
    out = _write_json(result, args.json or RUNS / f"locomotion_sweep_{key}.json")
    print(f"{key} ({REWARD_LABELS[models.reward_name]} reward): unsteered {result['unsteered_score_mean']:.1f}")
    for row in result["rows"][1:]:
        window = f" t_startgrad {row['t_startgrad']:<3}" if "t_startgrad" in row else ""
        print(f"  scale {row['scale']:<5} t_stopgrad {row['t_stopgrad']:<3}{window} score {row['score_mean']:6.1f}")
    print(f"chosen {result['chosen']} ({result['seconds']:.0f} s); wrote {out}")


# ---------------------------------------------------------------------------------------------- evaluation


@dataclass
class LocoEvaluateArgs(LocomotionCheckpointsOption, LocomotionEnvOption):
    """Base vs reward-steered base planner on fresh seeds (same seeds and noise): scores, CIs, paired difference."""

    episodes: int = 20
    """episodes per planner (reset seeds SEED .. SEED+EPISODES-1)"""
    seed: int = 100_000
    """first reset seed; fresh (never used by the datasets or by the sweep's validation seeds 200000...)"""
    scale: Optional[float] = None
    """steering scale (default: the env's chosen default)"""
    t_stopgrad: Optional[int] = None
    """no steering at reverse steps t < t_stopgrad (default: the env's chosen default)"""
    t_startgrad: Optional[int] = None
    """no steering at reverse steps t >= t_startgrad (default: the env's chosen default, else every step)"""
    max_steps: int = 1000
    """episode length cap"""
    json: Optional[Path] = None
    """output JSON (default runs/locomotion_eval_ENV.json)"""
    figure: Optional[Path] = None
    """output PNG (default: the JSON's path with .png)"""
    expert_planner: bool = False
    """also run the expert diffusion planner on the same seeds"""
    bootstrap: int = 10_000
    """bootstrap resamples"""
    generator_seed: int = 0
    """seed of the planner noise (the same for both planners)"""
    guidance: Optional[str] = None
    """input or mean (see the sweep; default: the env's chosen default)"""
    reward: RewardName = DEFAULT_REWARD
    """paper: the paper's offline reward (Algorithm 1); onpolicy: this project's on-policy fine-tuned extension
    (its default steering is the one it was fitted for)"""


def evaluate_planners(models: LocomotionModels, args: LocoEvaluateArgs) -> dict:
    check_counts(args.episodes, args.max_steps)
    scale = models.defaults["scale"] if args.scale is None else float(args.scale)
    stop = models.defaults["t_stopgrad"] if args.t_stopgrad is None else int(args.t_stopgrad)
    begin = models.t_startgrad if args.t_startgrad is None else int(args.t_startgrad)
    guidance = args.guidance or models.guidance
    if scale <= 0:
        raise ValueError(f"scale must be > 0 to compare steered with unsteered, got {scale}")
    seeds = list(range(args.seed, args.seed + args.episodes))
    n = len(seeds)
    # both planners in one batch: the same seeds, and steering is the only difference
    batch = rollout(models, seeds * 2, [0.0] * n + [scale] * n, [stop] * (2 * n), args.max_steps, "base",
                    generator_seed=args.generator_seed, guidance=guidance,
                    t_startgrads=begin)
    base, steered = split_batch(batch, n)
    result = {"env": models.env, "seeds": [seeds[0], seeds[-1]], "episodes": n, "max_steps": args.max_steps,
              "scale": scale, "t_stopgrad": stop, **({} if begin is None else {"t_startgrad": begin}),
              "guidance": guidance, "reward": models.reward_info(),
              "generator_seed": args.generator_seed,
              "base": batch_summary(base, args.bootstrap, 1), "steered": batch_summary(steered, args.bootstrap, 2)}
    diff = steered.scores - base.scores
    result["difference"] = {**summary(diff, args.bootstrap, 3), "steered_better": int((diff > 0).sum())}
    policy = load_expert_policy(models.env)
    returns = [evaluate_policy(policy, models.env, 1, s)[0] if args.max_steps == 1000 else
               _capped_return(policy, models.env, s, args.max_steps) for s in seeds]
    result["expert_policy"] = {"score": summary([normalized_score(models.env, r) for r in returns], args.bootstrap, 4)}
    result["reward_auroc_heldout"] = heldout_reward_auroc(models)
    if args.expert_planner:
        expert = rollout(models, seeds, [0.0] * n, [0] * n, args.max_steps, "expert",
                         generator_seed=args.generator_seed)
        result["expert_planner"] = batch_summary(expert, args.bootstrap, 5)
    return result


def split_batch(batch: EpisodeBatch, n: int) -> Tuple[EpisodeBatch, EpisodeBatch]:
    """The first n and the last episodes of a batch as two batches."""
    def part(s: slice) -> EpisodeBatch:
        pick = lambda v: None if v is None else v[s]  # noqa: E731
        return EpisodeBatch(batch.env, batch.planner, batch.seeds[s], batch.scales[s], batch.t_stopgrads[s],
                            batch.observations[s], batch.actions[s], batch.env_rewards[s], batch.returns[s],
                            batch.lengths[s], batch.terminated[s], batch.scores[s], batch.learned_rewards[s],
                            pick(batch.qpos), pick(batch.qvel), batch.seconds, pick(batch.t_startgrads))
    return part(slice(0, n)), part(slice(n, None))


def _capped_return(policy, env_name: str, seed: int, max_steps: int) -> float:
    import gymnasium as gym

    from .data import gym_id

    env = gym.make(gym_id(env_name))
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(max_steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs[None])[0])
        total += float(reward)
        if terminated or truncated:
            break
    env.close()
    return total


def evaluate_command(args: LocoEvaluateArgs) -> None:
    key, models = _command_models(args)
    result = evaluate_planners(models, args)
    out = _write_json(result, args.json or RUNS / f"locomotion_eval_{key}.json")
    figure = Path(args.figure or out.with_suffix(".png"))
    plot_evaluations({key: result}, figure)
    b, s, d = result["base"]["score"], result["steered"]["score"], result["difference"]
    print(f"{key} ({REWARD_LABELS[models.reward_name]} reward): base {b['mean']:.1f} +- {b['se']:.1f}  "
          f"steered {s['mean']:.1f} +- {s['se']:.1f}  difference {d['mean']:+.1f} "
          f"CI [{d['ci95'][0]:+.1f}, {d['ci95'][1]:+.1f}]  expert policy "
          f"{result['expert_policy']['score']['mean']:.1f}; wrote {out} and {figure}")


# ---------------------------------------------------------------------------------------------- report
