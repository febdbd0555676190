"""Expert policies and D4RL-style datasets for the locomotion tasks (``python -m reward_demo locomotion train-expert``).

One CrossQ run (sb3-contrib) per environment gives both datasets of the paper's locomotion experiments:

- base data, D4RL *medium-replay*: every transition of the run's replay buffer up to the first periodic
  evaluation whose D4RL-normalised score (deterministic policy) reaches ``medium_replay_score`` (~1/3 of the
  D4RL reference expert return);
- expert data, D4RL *expert*: rollouts of the final (best-evaluated) policy.

Datasets (``data.py``) go under ``DATA_ROOT/<env>/`` (git-ignored). The final actor is exported with the project's
``checkpoint.save_pretrained`` to ``checkpoints/locomotion/<env>/expert_policy/`` (``policy.py``) and rebuilt with
plain torch by :func:`load_expert_policy` (stable-baselines3 is only needed to train). A small copy of the
medium-replay dataset goes next to it when it is small enough.

The run is resumable: every ``eval_every`` steps the SB3 model (a ``.zip``, which contains pickles, kept under
``runs/`` only) and the replay buffer (``.npz``) are saved; rerunning the same command continues from there.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from ..options import LOCOMOTION_CHECKPOINTS as CHECKPOINT_ROOT
from ..options import LOCOMOTION_DATA as DATA_ROOT
from ..options import LOCOMOTION_RUNS as RUNS_ROOT
from ..options import REPO_ROOT, ThreadsOption
from .data import (
    DATASET_KEYS,
    as_dataset,
    dataset_summary,
    env_key,
    gym_id,
    load_dataset,
    normalized_score,
    save_dataset,
)
from .policy import actor_from_sb3, load_actor, policy_fn, save_actor

#: largest medium-replay dataset copied next to the committed policy
MAX_COMMITTED_DATASET_BYTES = 8_000_000

@dataclass
class ExpertTrainArgs(ThreadsOption):
    """Train a CrossQ expert on a locomotion task; write its medium-replay and expert datasets (resumable)."""

    env: str = "hopper"
    """hopper, halfcheetah or walker2d (or the gymnasium id, e.g. Hopper-v5)"""
    total_steps: int = 300_000
    """environment steps of the CrossQ run (also the replay buffer size)"""
    max_minutes: float = 0.0
    """stop training after this many minutes of this process and finish (0: no limit); rerun to continue"""
    target_score: float = 0.0
    """stop training once an evaluation reaches this normalised score (0: never)"""
    eval_every: int = 5_000
    """environment steps between evaluations and resumption saves"""
    eval_episodes: int = 5
    """episodes of each periodic evaluation (deterministic policy)"""
    final_eval_episodes: int = 10
    """episodes of the final evaluation of the exported policy (seeds 10_000, 10_001, ...)"""
    medium_replay_score: float = 100.0 / 3.0
    """normalised score whose first crossing snapshots the replay buffer as the medium-replay dataset"""
    medium_replay_min_steps: int = 20_000
    """no snapshot before this step (on Hopper a policy that merely stands for 1000 steps already scores ~32)"""
    medium_replay_min_distance: float = 2.0
    """nor before the evaluated episodes move forward this far on average (metres; rules out standing still)"""
    expert_steps: int = 100_000
    """transitions of the expert dataset (rollouts of the final policy)"""
    expert_noise: float = 0.02
    """std of Gaussian noise added to the deterministic expert action when recording the expert dataset"""
    skip_training: bool = False
    """only re-export the best policy and re-record the expert dataset of an existing run"""
    pi_arch: Tuple[int, ...] = (256, 256)
    """hidden widths of the actor"""
    qf_arch: Tuple[int, ...] = (256, 256)
    """hidden widths of each critic (sb3-contrib's default is 1024, 1024; 256 is ~4x faster on the CPU)"""
    learning_rate: float = 1e-3
    """Adam learning rate of actor, critics and entropy coefficient"""
    batch_size: int = 256
    """replay batch size"""
    learning_starts: int = 5_000
    """random-action steps before learning starts"""
    seed: int = 0
    """seed of the run (weights, exploration, training episodes)"""
    data_root: Path = DATA_ROOT
    """datasets go to DATA_ROOT/ENV/{medium_replay,expert}.npz"""
    out: Path = CHECKPOINT_ROOT
    """the exported policy goes to OUT/ENV/expert_policy/ (and a small medium-replay copy to OUT/ENV/)"""
    runs_root: Path = RUNS_ROOT
    """resumption state (SB3 .zip with pickles, replay buffer .npz) goes to RUNS_ROOT/ENV/"""


def load_expert_policy(env_name: str, root: Optional[Path] = None) -> Callable[[np.ndarray], np.ndarray]:
    """The exported expert of ``env_name`` as ``f(obs batch (n, obs_dim) numpy) -> actions (n, action_dim)``.

    Deterministic (the tanh of the Gaussian mean), plain torch; ``f.config`` is its flat config (see ``load_actor``)."""
    key = env_key(env_name)
    actor, config = load_actor(Path(root or CHECKPOINT_ROOT) / key / "expert_policy")
    act = policy_fn(actor)
    act.config = config  # type: ignore[attr-defined]
    return act


# ---------------------------------------------------------------------------------------------- rollouts and datasets


def evaluate(policy: Callable, env_name: str, episodes: int, seed: int) -> List[float]:
    """Undiscounted returns of ``episodes`` episodes (reset seeds seed, seed+1, ...)."""
    return evaluate_stats(policy, env_name, episodes, seed)["returns"]


def evaluate_stats(policy: Callable, env_name: str, episodes: int, seed: int) -> dict:
    """Returns, lengths and forward distances (final x - initial x) of ``episodes`` episodes."""
    import gymnasium as gym

    env = gym.make(gym_id(env_name))
    returns, lengths, distances = [], [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        x0 = float(env.unwrapped.data.qpos[0])
        total, done, length = 0.0, False, 0
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs[None])[0])
            total += float(reward)
            length += 1
            done = terminated or truncated
        returns.append(total)
        lengths.append(length)
        distances.append(float(env.unwrapped.data.qpos[0]) - x0)
    env.close()
    return {"returns": returns, "lengths": lengths, "distances": distances}


def rollout_dataset(policy: Callable, env_name: str, steps: int, seed: int,
                    noise: float = 0.0) -> Dict[str, np.ndarray]:
    """``steps`` transitions of ``policy`` (+ Gaussian action noise, clipped to the bounds) in D4RL format; an
    episode cut by ``steps`` ends with timeouts=True."""
    import gymnasium as gym

    env = gym.make(gym_id(env_name))
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    out = {k: [] for k in DATASET_KEYS}
    obs, _ = env.reset(seed=seed)
    episode = 0
    for i in range(steps):
        action = policy(obs[None])[0]
        if noise > 0:
            action = action + noise * rng.standard_normal(action.shape)
        action = np.clip(action, low, high).astype(np.float32)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        last = i == steps - 1
        for key, value in zip(DATASET_KEYS, (obs, action, reward, next_obs, terminated,
                                             (truncated or last) and not terminated)):
            out[key].append(value)
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=seed + episode)
        else:
            obs = next_obs
    env.close()
    return as_dataset(out)


def _buffer_dataset(replay_buffer, n: int) -> Dict[str, np.ndarray]:
    """The first ``n`` transitions of an SB3 ReplayBuffer (one env) in D4RL format."""
    dones = replay_buffer.dones[:n, 0].astype(bool)
    timeouts = replay_buffer.timeouts[:n, 0].astype(bool)
    return {"observations": replay_buffer.observations[:n, 0].astype(np.float32),
            "actions": replay_buffer.actions[:n, 0].astype(np.float32),
            "rewards": replay_buffer.rewards[:n, 0].astype(np.float32),
            "next_observations": replay_buffer.next_observations[:n, 0].astype(np.float32),
            "terminals": dones & ~timeouts, "timeouts": timeouts}


# ---------------------------------------------------------------------------------------------- training


def _display_path(path: Path) -> str:
    """A path relative to the repository when it lies inside it (configs do not record this machine's layout)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _write_json(path: Path, payload) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


def _save_resume_state(model, state: dict, run_dir: Path) -> None:
    """Write model.zip + buffer.npz + state.json into a fresh folder, then swap it in (never half-written)."""
    tmp, final, old = run_dir / "resume.tmp", run_dir / "resume", run_dir / "resume.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(str(tmp / "model.zip"))
    rb, n = model.replay_buffer, model.replay_buffer.pos
    np.savez(tmp / "buffer.npz", observations=rb.observations[:n], next_observations=rb.next_observations[:n],
             actions=rb.actions[:n], rewards=rb.rewards[:n], dones=rb.dones[:n], timeouts=rb.timeouts[:n])
    _write_json(tmp / "state.json", state)
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.replace(old)
    tmp.replace(final)
    shutil.rmtree(old, ignore_errors=True)


def _load_resume_state(run_dir: Path, env, args: ExpertTrainArgs):
    from sb3_contrib import CrossQ

    for folder in (run_dir / "resume", run_dir / "resume.old"):
        if (folder / "state.json").is_file():
            break
    else:
        return None, None
    state = json.loads((folder / "state.json").read_text())
    model = CrossQ.load(str(folder / "model.zip"), env=env, device="cpu")
    with np.load(folder / "buffer.npz", allow_pickle=False) as data:
        n = len(data["rewards"])
        if n != model.num_timesteps:
            raise ValueError(f"resume state in {folder} is inconsistent ({n} transitions, {model.num_timesteps} steps)")
        from stable_baselines3.common.buffers import ReplayBuffer

        # a fresh buffer sized for this command's total_steps (it may have grown since the last run)
        model.buffer_size = max(args.total_steps, n) + 1
        model.replay_buffer = rb = ReplayBuffer(model.buffer_size, model.observation_space, model.action_space,
                                                device="cpu", n_envs=1, handle_timeout_termination=True)
        for key in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
            getattr(rb, key)[:n] = data[key]
    if n and not rb.dones[n - 1, 0]:
        rb.timeouts[n - 1, 0] = 1.0  # the interrupted episode ends here: a timeout, not a terminal
    rb.pos, rb.full = n, False
    model._last_obs = None  # start a new episode
    model.set_random_seed(args.seed + 7919 * (n // max(args.eval_every, 1) + 1))
    return model, state


def train_expert(args: ExpertTrainArgs) -> dict:
    """Train (or continue) the CrossQ run, snapshot the medium-replay buffer, export the policy, record the expert
    dataset. Returns the summary also written to RUNS_ROOT/ENV/summary.json."""
    key = env_key(args.env)
    if args.total_steps <= 0 or args.eval_every <= 0 or args.eval_episodes <= 0:
        raise ValueError("total_steps, eval_every and eval_episodes must be positive")
    torch.set_num_threads(max(1, args.threads))
    import gymnasium as gym
    from sb3_contrib import CrossQ

    run_dir, data_dir = Path(args.runs_root) / key, Path(args.data_root) / key
    run_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = gym.make(gym_id(key))
    model, state = _load_resume_state(run_dir, env, args)
    if model is None:
        # one slot more than the steps: the buffer never wraps (the medium-replay snapshot keeps every transition)
        model = CrossQ("MlpPolicy", env, learning_rate=args.learning_rate, buffer_size=args.total_steps + 1,
                       learning_starts=args.learning_starts, batch_size=args.batch_size, seed=args.seed, device="cpu",
                       policy_kwargs=dict(net_arch=dict(pi=list(args.pi_arch), qf=list(args.qf_arch))))
        state = {"curve": [], "medium_replay": None, "best": None, "wall_seconds": 0.0}
        print(f"[{key}] new CrossQ run: {args.total_steps} steps, pi {args.pi_arch}, qf {args.qf_arch}", flush=True)
    else:
        state.setdefault("first_args", state.get("args"))  # the arguments that started the run (network sizes...)
        print(f"[{key}] resumed at step {model.num_timesteps} (best {state['best']})", flush=True)

    state["args"] = {k: (_display_path(v) if isinstance(v, Path) else v) for k, v in asdict(args).items()}
    start, chunk_start = time.time(), time.time()
    stop_reason = "total_steps"
    if args.skip_training:
        if not state["curve"]:
            raise ValueError(f"skip_training: no evaluated policy in {run_dir} yet")
        stop_reason = "skip_training"
    while model.num_timesteps < args.total_steps and not args.skip_training:
        chunk = min(args.eval_every - model.num_timesteps % args.eval_every, args.total_steps - model.num_timesteps)
        steps_before = model.num_timesteps
        model.learn(chunk, reset_num_timesteps=False)
        speed = (model.num_timesteps - steps_before) / max(time.time() - chunk_start, 1e-9)
        actor, config = actor_from_sb3(model)
        stats = evaluate_stats(policy_fn(actor), key, args.eval_episodes, seed=1_000 + model.num_timesteps)
        returns = stats["returns"]
        mean = float(np.mean(returns))
        point = {"step": int(model.num_timesteps), "return_mean": mean, "return_std": float(np.std(returns)),
                 "normalized_score": normalized_score(key, mean), "length_mean": float(np.mean(stats["lengths"])),
                 "distance_mean": float(np.mean(stats["distances"])), "steps_per_s": speed}
        state["curve"].append(point)
        state["wall_seconds"] += time.time() - chunk_start
        print(f"[{key}] step {point['step']:>7d}  return {mean:8.1f} +- {point['return_std']:6.1f}  "
              f"score {point['normalized_score']:6.1f}  len {point['length_mean']:6.1f}  "
              f"dx {point['distance_mean']:6.2f}  "
              f"({speed:.1f} steps/s)", flush=True)
        if state["best"] is None or mean > state["best"]["return_mean"]:
            state["best"] = point
            save_actor(actor, config, run_dir / "best_actor")
        if (state["medium_replay"] is None and point["normalized_score"] >= args.medium_replay_score
                and point["step"] >= args.medium_replay_min_steps
                and point["distance_mean"] >= args.medium_replay_min_distance):
            dataset = _buffer_dataset(model.replay_buffer, model.replay_buffer.pos)
            save_dataset(dataset, data_dir / "medium_replay.npz")
            summary = {"snapshot_step": point["step"], "snapshot_eval": point, **dataset_summary(dataset, key)}
            _write_json(data_dir / "medium_replay.json", summary)
            state["medium_replay"] = summary
            print(f"[{key}] medium-replay snapshot: {summary['transitions']} transitions, "
                  f"{summary['episodes']} episodes, mean score {summary['normalized_score_mean']:.1f}", flush=True)
        _save_resume_state(model, state, run_dir)
        chunk_start = time.time()
        if args.target_score and point["normalized_score"] >= args.target_score:
            stop_reason = f"target score {args.target_score} reached"
            break
        if args.max_minutes and time.time() - start > 60 * args.max_minutes:
            stop_reason = f"max_minutes {args.max_minutes} reached"
            break
    print(f"[{key}] training stopped at step {model.num_timesteps}: {stop_reason}", flush=True)
    return finish_expert(args, state)


def finish_expert(args: ExpertTrainArgs, state: Optional[dict] = None) -> dict:
    """Export the best-evaluated actor with a fresh evaluation and record the expert dataset."""
    key = env_key(args.env)
    run_dir, data_dir = Path(args.runs_root) / key, Path(args.data_root) / key
    if state is None:
        state = json.loads((run_dir / "resume" / "state.json").read_text())
    actor, config = load_actor(run_dir / "best_actor")
    policy = policy_fn(actor)
    seeds = list(range(10_000, 10_000 + args.final_eval_episodes))
    returns = evaluate(policy, key, args.final_eval_episodes, seed=seeds[0])
    mean, std = float(np.mean(returns)), float(np.std(returns))
    config = {**config, "env": key, "gym_id": gym_id(key),
              "evaluation": {"episodes": len(returns), "reset_seeds": seeds, "deterministic": True,
                             "return_mean": mean, "return_std": std, "returns": returns,
                             "normalized_score_mean": normalized_score(key, mean)},
              "training": {"selected_step": state["best"]["step"] if state.get("best") else None,
                           "steps_done": state["curve"][-1]["step"] if state["curve"] else 0,
                           "wall_seconds": state.get("wall_seconds"), "curve": state["curve"],
                           "args": {k: (_display_path(Path(v)) if k in ("data_root", "out", "runs_root") else v)
                                    for k, v in state["args"].items()}}}
    policy_dir = Path(args.out) / key / "expert_policy"
    save_actor(actor, config, policy_dir)
    print(f"[{key}] exported policy of step {config['training']['selected_step']} to {policy_dir}: return "
          f"{mean:.1f} +- {std:.1f} over {len(returns)} episodes, score {normalized_score(key, mean):.1f}", flush=True)

    expert_summary = record_expert_dataset(policy, key, data_dir, args.expert_steps, args.seed, args.expert_noise,
                                           config["training"]["selected_step"])

    committed = None
    mr_path = data_dir / "medium_replay.npz"
    if mr_path.is_file():
        dataset = load_dataset(mr_path)
        target = Path(args.out) / key / "medium_replay.npz"
        for dtype in (np.float32, np.float16):
            save_dataset(dataset, target, dtype=dtype)
            if target.stat().st_size <= MAX_COMMITTED_DATASET_BYTES:
                committed = {"path": _display_path(target), "bytes": target.stat().st_size,
                             "dtype": np.dtype(dtype).name}
                break
        else:
            target.unlink()
        if committed:
            _write_json(target.with_suffix(".json"), {**json.loads((data_dir / "medium_replay.json").read_text()),
                                                      "dtype": committed["dtype"]})
    summary = {"env": key, "policy": config["evaluation"], "medium_replay": state.get("medium_replay"),
               "expert": expert_summary, "committed_medium_replay": committed,
               "curve": state["curve"]}
    _write_json(run_dir / "summary.json", summary)
    return summary


def record_expert_dataset(policy: Callable, key: str, data_dir: Path, steps: int, seed: int, noise: float,
                          policy_step) -> dict:
    """Roll out ``policy`` (rollout seed ``seed`` + 20_000, Gaussian action noise) into DATA_DIR/expert.npz
    and its summary expert.json; returns the summary."""
    expert = rollout_dataset(policy, key, steps, seed=seed + 20_000, noise=noise)
    data_dir.mkdir(parents=True, exist_ok=True)
    save_dataset(expert, data_dir / "expert.npz")
    summary = {"policy_step": policy_step, "noise_std": noise, **dataset_summary(expert, key)}
    _write_json(data_dir / "expert.json", summary)
    print(f"[{key}] expert dataset: {summary['transitions']} transitions, {summary['episodes']} "
          f"episodes, mean score {summary['normalized_score_mean']:.1f}", flush=True)
    return summary


@dataclass
class RecordExpertArgs:
    """Record the expert dataset from the committed expert policy, with the options its training run used."""

    env: str = "hopper"
    """hopper, halfcheetah or walker2d (or the gymnasium id, e.g. Hopper-v5)"""
    data_root: Path = DATA_ROOT
    """the dataset goes to DATA_ROOT/ENV/expert.npz"""
    out: Path = CHECKPOINT_ROOT
    """the policy is read from OUT/ENV/expert_policy/"""


def record_expert_command(args: RecordExpertArgs) -> dict:
    """A fresh clone has the exported policies but no training runs: this rebuilds the expert data that
    ``train-planners`` needs (same steps, noise and rollout seed as the run that exported the policy)."""
    key = env_key(args.env)
    policy_dir = Path(args.out) / key / "expert_policy"
    if not (policy_dir / "model.safetensors").is_file():
        raise FileNotFoundError(f"no expert policy in {policy_dir}; train one with "
                                f"python -m reward_demo locomotion train-expert --env {key}")
    actor, config = load_actor(policy_dir)
    run_args = config["training"]["args"]
    return record_expert_dataset(policy_fn(actor), key, Path(args.data_root) / key, int(run_args["expert_steps"]),
                                 int(run_args["seed"]), float(run_args["expert_noise"]),
                                 config["training"]["selected_step"])


def train_expert_command(args: ExpertTrainArgs) -> None:
    train_expert(args)
