"""On-policy fine-tuning of a locomotion reward (``python -m reward_demo locomotion finetune-reward --env ENV``).

Algorithm 1 fits the reward on noised *dataset* windows, but steering evaluates its gradient at the states the
steered base planner's own reverse chains visit in closed loop, which drift away from the data as soon as steering
acts. This stage fits the reward where it is used, in DAgger-style rounds of gradient matching (Algorithm 2's
chain states, gathered under steering):

1. run the base planner steered by the current reward (mean guidance, t_stopgrad 0; scale ``scale`` and
   ``scale / 2`` on alternate episodes) on training reset seeds 300000 + 1000 r onwards, and keep a random
   ``keep`` fraction of the reverse-chain states x_t it starts each reverse step from
   (``GaussianDiffusion.sample``'s ``on_state``, through ``inference.plan``);
2. fine-tune the reward ``steps`` steps by gradient matching on batches that are ``online_fraction`` states of all
   rounds so far and the rest offline base/expert windows (``train.BalancedWindowSource``), with the start
   observation inpainted into both reverse means as during planning;
3. score it on validation reset seeds 200000 onwards (monitoring only: no choice is made on them).

Reads ROOT/ENV/{base,expert,reward}; writes the last round's reward to ROOT/ENV/reward_onpolicy, which
``models.load_locomotion_models(..., reward="onpolicy")`` loads (``--reward onpolicy``, the tab's Reward choice;
the paper's offline reward stays the default), with the steering it was fitted for (``metadata["steering"]``) as
its defaults. Each finished round is kept in WORK/ENV (fp32 weights, states, random state), and a
rerun resumes after the last one; a run interrupted and resumed gives the same weights as one uninterrupted.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch

from ..checkpoint import from_pretrained, save_pretrained
from ..options import LocomotionEnvOption, ThreadsOption
from ..options import reproduce_command as command_line
from .data import CHECKPOINT_ROOT, DATA_ROOT, env_key
from .inference import rollout
from .models import ONPOLICY_REWARD, LocomotionModels, models_from_folder
from .train import SAVE_DTYPE, BalancedWindowSource, LocoTrainArgs, WindowData, load_window_data, start_conditions

TRAIN_SEED_BASE = 300_000
VAL_SEED_BASE = 200_000
#: arguments that say where files are or how many threads run, not what is trained
PLACE_ARGS = ("checkpoints", "data_root", "work", "threads")


@dataclass
class FinetuneRewardArgs(ThreadsOption, LocomotionEnvOption):
    """Fine-tune a locomotion reward on the steered base planner's own reverse-chain states (resumable)."""

    checkpoints: Path = CHECKPOINT_ROOT
    """checkpoint root: reads ROOT/ENV/{base,expert,reward}, writes ROOT/ENV/reward_onpolicy"""
    data_root: Path = DATA_ROOT
    """where the medium-replay and expert datasets are (for the offline half of each batch)"""
    work: Path = Path("runs/finetune-reward")
    """each finished round is kept in WORK/ENV (a rerun resumes after the last one)"""
    rounds: int = 4
    """collect-and-fit rounds"""
    episodes: int = 24
    """steered training episodes collected per round"""
    collect_steps: int = 300
    """env steps per collected episode at most"""
    val_collect_episodes: int = 6
    """steered episodes per round (other seeds) whose states form the held-out matching loss"""
    keep: float = 0.25
    """fraction of the reverse-chain states kept (neighbouring steps are nearly the same state)"""
    scale: float = 1.0
    """steering scale of the collection (alternate episodes use half) and of the shipped default"""
    steps: int = 3000
    """gradient-matching steps per round"""
    lr: float = 2e-4
    """learning rate"""
    batch_size: int = 128
    """batch size"""
    online_fraction: float = 0.5
    """fraction of each batch drawn from the collected states (the rest: offline base/expert windows)"""
    val_episodes: int = 10
    """validation episodes (up to 1000 steps) scored after every round, for monitoring (0: none)"""
    buffer: int = 8192
    """precomputed gradient-matching targets per refresh (every 100 steps; the held-out loss uses up to 2048)"""


class MixedStateSource:
    """Batches of which ``online_fraction`` are collected chain states (x_t, t) and the rest offline noised windows."""

    def __init__(self, offline: BalancedWindowSource, states: torch.Tensor, ts: torch.Tensor, online_fraction: float):
        if not 0.0 <= online_fraction <= 1.0:
            raise ValueError(f"online_fraction must be in [0, 1], got {online_fraction}")
        self.offline, self.states, self.ts, self.online_fraction = offline, states, ts, online_fraction

    def draw(self, n: int, generator: torch.Generator):
        n_online = int(round(n * self.online_fraction)) if len(self.states) else 0
        x_off, t_off, _ = self.offline.draw(n - n_online, generator)
        if n_online == 0:
            return x_off, t_off, None
        index = torch.randint(0, len(self.states), (n_online,), generator=generator)
        return torch.cat([x_off, self.states[index]]), torch.cat([t_off, self.ts[index]]), None


class StateRecorder:
    """``on_state`` hook keeping each reverse-chain state with probability ``keep`` (numpy ``rng``)."""

    def __init__(self, keep: float, rng: np.random.Generator):
        if not 0.0 < keep <= 1.0:
            raise ValueError(f"keep must be in (0, 1], got {keep}")
        self.keep, self.rng = keep, rng
        self.x: List[torch.Tensor] = []
        self.t: List[torch.Tensor] = []

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> None:
        kept = torch.from_numpy(self.rng.random(x.shape[0]) < self.keep).to(x.device)
        if kept.any():
            self.x.append(x[kept].cpu().clone())
            self.t.append(t[kept].cpu().clone())

    def clear(self) -> None:
        self.x, self.t = [], []

    def states(self) -> Tuple[torch.Tensor, torch.Tensor]:
        if not self.x:
            raise RuntimeError("no reverse-chain state was recorded")
        return torch.cat(self.x), torch.cat(self.t)


def collect_states(models: LocomotionModels, seeds: List[int], scales: List[float], max_steps: int,
                   generator_seed: int, recorder: StateRecorder):
    """Run steered episodes (mean guidance, t_stopgrad 0) and return the kept chain states and the episodes."""
    recorder.clear()
    batch = rollout(models, seeds, scales, [0] * len(seeds), max_steps, "base", generator_seed=generator_seed,
                    guidance="mean", on_state=recorder)
    x, t = recorder.states()
    return x, t, batch


def offline_windows(models: LocomotionModels, data_root: Path) -> Dict[Tuple[str, str], WindowData]:
    """{(kind, split): WindowData} of the base and expert datasets, split as ``train-planners`` split them and
    normalised with the models' shared normaliser."""
    args = dataclasses.replace(LocoTrainArgs(env=models.env, data_root=data_root).resolved(), horizon=models.horizon)
    return load_window_data(args, models.normalizer)[1]


def round_folder(work: Path, r: int) -> Path:
    return work / f"round_{r}"


def last_finished_round(work: Path, rounds: int) -> int:
    """The last of rounds 1 .. ``rounds`` finished in ``work``, in a row (0: none)."""
    done = 0
    while done < rounds and (round_folder(work, done + 1) / "state.json").is_file():
        done += 1
    return done


def reproduce_command(args: FinetuneRewardArgs) -> str:
    return command_line(f"python -m reward_demo locomotion finetune-reward --env {args.env}", args,
                        FinetuneRewardArgs(env=args.env), skip=("env", *PLACE_ARGS))


def run_settings(args: FinetuneRewardArgs) -> dict:
    """The arguments that decide the weights (not where files are, nor the thread count)."""
    return {k: v for k, v in asdict(args).items() if k not in PLACE_ARGS}


def onpolicy_metadata(offline_metadata: dict, args: FinetuneRewardArgs, log: List[dict],
                      base_planner: str = "base") -> dict:
    """The fine-tuned reward's config metadata: the Algorithm 1 reward's (data, normaliser, sizes) less its training
    history, plus the command, the base planner whose chains it was fitted on (``models.base_planner_of``), the
    steering it was fitted for and each round's log."""
    return {**{k: v for k, v in offline_metadata.items() if k != "training"},
            "kind": f"reward (fine-tuned on-policy, {args.rounds} rounds)", "fine_tuned_from": "reward",
            "base_planner": base_planner,
            "command": reproduce_command(args), "steering": {"scale": args.scale, "t_stopgrad": 0, "guidance": "mean"},
            "finetuning": {"settings": run_settings(args), "rounds": log}}


def validation_scores(models: LocomotionModels, episodes: int, scale: float) -> List[float]:
    if episodes == 0:
        return []
    seeds = list(range(VAL_SEED_BASE, VAL_SEED_BASE + episodes))
    return rollout(models, seeds, [scale] * episodes, [0] * episodes, 1000, "base", guidance="mean").scores.tolist()


def check_args(args: FinetuneRewardArgs) -> None:
    for name in ("rounds", "episodes", "collect_steps", "val_collect_episodes", "steps", "batch_size", "buffer"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
    if args.val_episodes < 0:
        raise ValueError(f"val_episodes must be >= 0, got {args.val_episodes}")
    if not np.isfinite(args.scale) or args.scale <= 0:
        raise ValueError(f"scale must be a finite number > 0, got {args.scale}")
    if not args.lr > 0:
        raise ValueError(f"lr must be > 0, got {args.lr}")
    if not 0.0 < args.keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {args.keep}")
    if not 0.0 <= args.online_fraction <= 1.0:
        raise ValueError(f"online_fraction must be in [0, 1], got {args.online_fraction}")


def finetune_reward_command(args: FinetuneRewardArgs) -> Path:
    """Run (or resume) the rounds and write ROOT/ENV/reward_onpolicy; returns that folder."""
    from ..networks import with_stable_mish
    from ..relative_reward import train_relative_reward
    from ..training import TrainConfig

    check_args(args)
    env = env_key(args.env)
    torch.set_num_threads(max(1, args.threads))
    folder = Path(args.checkpoints) / env
    # always start from the Algorithm 1 reward, whatever a previous run left in reward_onpolicy
    models = dataclasses.replace(models_from_folder(env, folder, "cpu", reward="paper"), defaults={})
    work = Path(args.work) / env
    work.mkdir(parents=True, exist_ok=True)
    settings = run_settings(args)
    settings_file = work / "settings.json"
    # more rounds (or another amount of monitoring) continue a run; any other change would mix two runs
    if settings_file.is_file() and round_folder(work, 1).exists():
        previous, now = json.loads(settings_file.read_text()), json.loads(json.dumps(settings))
        changed = [k for k in previous.keys() & now.keys()
                   if k not in ("rounds", "val_episodes") and previous[k] != now[k]]
        if changed:
            raise ValueError(f"{work} holds rounds of a run with other {', '.join(sorted(changed))} ({settings_file}); "
                             f"pass another --work, or delete it to start over")
    settings_file.write_text(json.dumps(settings, indent=1))
    windows = offline_windows(models, args.data_root)
    rng = np.random.default_rng(0)
    current = models
    train_x, train_t, val_x, val_t, log = [], [], [], [], []
    started = time.time()
    done = last_finished_round(work, args.rounds)
    if done:
        for r in range(1, done + 1):
            saved = load_states(round_folder(work, r))
            train_x.append(saved["train_x"])
            train_t.append(saved["train_t"])
            val_x.append(saved["val_x"])
            val_t.append(saved["val_t"])
        state = json.loads((round_folder(work, done) / "state.json").read_text())
        log = state["log"]
        rng.bit_generator.state = state["rng"]
        # the reward as training left it: fp32, with the Mish swap train_relative_reward made
        reward = with_stable_mish(from_pretrained(round_folder(work, done), "cpu")).requires_grad_(False)
        current = dataclasses.replace(models, reward=reward)
        print(f"[{env}] resuming after round {done} of {args.rounds} ({work})", flush=True)
    elif args.val_episodes:
        log.append({"round": 0, "val_scores": validation_scores(models, args.val_episodes, args.scale),
                    "unsteered_val_scores": validation_scores(models, args.val_episodes, 0.0)})
        print(f"[{env}] round 0: validation score {np.mean(log[0]['val_scores']):.1f} "
              f"(unsteered {np.mean(log[0]['unsteered_val_scores']):.1f})", flush=True)
    recorder = StateRecorder(args.keep, rng)
    for r in range(done + 1, args.rounds + 1):
        seeds = list(range(TRAIN_SEED_BASE + 1000 * r, TRAIN_SEED_BASE + 1000 * r + args.episodes))
        scales = [args.scale / 2 if i % 2 else args.scale for i in range(args.episodes)]
        x, t, batch = collect_states(current, seeds, scales, args.collect_steps, r, recorder)
        train_x.append(x)
        train_t.append(t)
        val_seeds = [s + 500 for s in seeds[:args.val_collect_episodes]]
        x_val, t_val, _ = collect_states(current, val_seeds, [args.scale] * len(val_seeds), args.collect_steps,
                                         100 + r, recorder)
        val_x.append(x_val)
        val_t.append(t_val)
        print(f"[{env}] round {r}: {len(x)} states from {args.episodes} episodes (mean length "
              f"{batch.lengths.mean():.0f}, score {batch.scores.mean():.1f}) ({time.time() - started:.0f} s)",
              flush=True)
        source = MixedStateSource(BalancedWindowSource(windows[("base", "train")], windows[("expert", "train")],
                                                       models.base, models.obs_dim),
                                  torch.cat(train_x), torch.cat(train_t), args.online_fraction)
        val_source = MixedStateSource(BalancedWindowSource(windows[("base", "val")], windows[("expert", "val")],
                                                           models.base, models.obs_dim),
                                      torch.cat(val_x), torch.cat(val_t), args.online_fraction)
        reward = copy.deepcopy(current.reward).float().requires_grad_(True).train()
        config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, grad_clip=1.0, seed=r,
                             eval_every=500, save_every=10**9, progress=False, cpu=True)
        result = train_relative_reward(reward, models.base, models.expert, source, val_source, config, None,
                                       buffer_size=args.buffer, refresh_every=100, val_size=min(2048, args.buffer),
                                       conditions_fn=lambda x_t: start_conditions(x_t, models.obs_dim),
                                       match_fixed=True)  # as the shipped on-policy rewards were fitted
        current = dataclasses.replace(models, reward=result.model.requires_grad_(False))
        entry = {"round": r, "states": int(sum(len(v) for v in train_x)), "collect_score": float(batch.scores.mean()),
                 "history": result.history}
        if args.val_episodes:
            entry["val_scores"] = validation_scores(current, args.val_episodes, args.scale)
        log.append(entry)
        out = round_folder(work, r)
        save_pretrained(current.reward, out, metadata={}, dtype=torch.float32)
        save_states(out, x, t, x_val, t_val)
        (out / "state.json").write_text(json.dumps({"log": log, "rng": rng.bit_generator.state}))
        val_text = f", validation score {np.mean(entry['val_scores']):.1f}" if args.val_episodes else ""
        print(f"[{env}] round {r}: held-out matching loss {result.history[-1].get('val_loss', float('nan')):.5f}"
              f"{val_text} ({time.time() - started:.0f} s)", flush=True)

    target = folder / ONPOLICY_REWARD
    metadata = onpolicy_metadata(models.reward.metadata, args, log, models.base_folder)
    save_pretrained(current.reward, target, metadata=metadata, dtype=SAVE_DTYPE)
    print(f"[{env}] on-policy reward in {target}", flush=True)
    return target


def save_states(folder: Path, x, t, x_val, t_val) -> None:
    from safetensors.torch import save_file

    save_file({"train_x": x.contiguous(), "train_t": t.contiguous(), "val_x": x_val.contiguous(),
               "val_t": t_val.contiguous()}, str(folder / "states.safetensors"))


def load_states(folder: Path) -> Dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "states.safetensors"))
