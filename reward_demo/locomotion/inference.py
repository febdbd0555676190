"""Planning with the trained models (``models.py``): steered plans and vectorised rollouts of whole episodes.

A plan is a window of ``horizon`` normalised ``[observation, action]`` rows whose first observation is the
current one (inpainted); the first action is executed. The base planner can be steered by the relative reward
(``steering``: input or mean guidance), per episode, so a whole sweep grid runs as one batch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch

from .data import gym_id, normalized_score
from .models import LocomotionModels

PLANNERS = ("base", "expert")
MAX_EPISODE_STEPS = 1000

GUIDANCE = ("input", "mean")


def plan(models: LocomotionModels, observations: torch.Tensor, scale=0.0, t_stopgrad=0, planner: str = "base",
         generator: Optional[torch.Generator] = None, guidance: str = "input",
         on_state: Optional[Callable[[torch.Tensor, torch.Tensor], None]] = None, t_startgrad=None) -> torch.Tensor:
    """Normalised plans (n, horizon, obs_dim + action_dim) from normalised start observations (n, obs_dim).

    ``scale``/``t_stopgrad``/``t_startgrad``: numbers or per-sample tensors (a sweep grid in one batch); the reward
    guides the reverse steps t_stopgrad <= t < t_startgrad (``t_startgrad`` None: up from the first step);
    steering applies to the base planner only. ``guidance``: "input" (the reference's, Diffuser's guided sampling:
    ``steering.RewardGuide``) or "mean" (``steering.MeanRewardGuide``: the gradient at and added to the base
    model's reverse mean). ``on_state``: sees every reverse-chain state (``GaussianDiffusion.sample``'s hook;
    steered "mean" guidance only).
    """
    from ..steering import MeanRewardGuide, RewardGuide

    if guidance not in GUIDANCE:
        raise ValueError(f"guidance must be one of {', '.join(GUIDANCE)}, got {guidance!r}")
    diffusion = models.base if planner == "base" else models.expert
    conditions = {0: observations}
    n = observations.shape[0]
    tensors = torch.is_tensor(scale) or torch.is_tensor(t_stopgrad)
    if planner != "base" or not (bool((torch.as_tensor(scale) > 0).any()) if tensors else scale > 0):
        return diffusion.sample(n, conditions=conditions, generator=generator).x
    if tensors or torch.is_tensor(t_startgrad):
        scale = torch.as_tensor(scale, dtype=torch.float32, device=observations.device).expand(n)
        t_stopgrad = torch.as_tensor(t_stopgrad, dtype=torch.long, device=observations.device).expand(n)
        if t_startgrad is not None:
            t_startgrad = torch.as_tensor(t_startgrad, dtype=torch.long, device=observations.device).expand(n)
    if guidance == "mean":
        guide = MeanRewardGuide(models.reward, scale, t_stopgrad=t_stopgrad, t_startgrad=t_startgrad)
        return diffusion.sample(n, conditions=conditions, generator=generator, step=guide, on_state=on_state).x
    guide = RewardGuide(models.reward, scale, t_stopgrad=t_stopgrad, t_startgrad=t_startgrad)
    return diffusion.sample(n, conditions=conditions, generator=generator, step=guide).x


def check_run_args(models: LocomotionModels, scale: float, t_stopgrad: int, max_steps: int, planner: str,
                   t_startgrad: Optional[int] = None) -> None:
    if planner not in PLANNERS:
        raise ValueError(f"planner must be one of {', '.join(PLANNERS)}, got {planner!r}")
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number >= 0, got {scale}")
    if not 0 <= int(t_stopgrad) <= models.n_timesteps or int(t_stopgrad) != t_stopgrad:
        raise ValueError(f"t_stopgrad must be an integer in [0, {models.n_timesteps}], got {t_stopgrad}")
    if t_startgrad is not None and (not 1 <= int(t_startgrad) <= models.n_timesteps or int(t_startgrad) != t_startgrad):
        raise ValueError(f"t_startgrad must be an integer in [1, {models.n_timesteps}] (guidance at reverse steps "
                         f"t < t_startgrad; {models.n_timesteps} = from the first), got {t_startgrad}")
    if not 1 <= int(max_steps) <= MAX_EPISODE_STEPS or int(max_steps) != max_steps:
        raise ValueError(f"max_steps must be an integer in [1, {MAX_EPISODE_STEPS}], got {max_steps}")


@dataclass
class EpisodeBatch:
    """Episodes of one planner, one entry per seed (lists hold per-episode arrays of length L_i = lengths[i])."""

    env: str
    planner: str
    seeds: List[int]
    scales: np.ndarray
    """steering scale of each episode"""
    t_stopgrads: np.ndarray
    """t_stopgrad of each episode"""
    observations: List[np.ndarray]
    """(L_i, obs_dim): the observation each action was planned from"""
    actions: List[np.ndarray]
    """(L_i, action_dim): the executed actions (unnormalised, clipped to the action bounds)"""
    env_rewards: List[np.ndarray]
    """(L_i,): the environment's rewards"""
    returns: np.ndarray
    """(n,) undiscounted returns"""
    lengths: np.ndarray
    """(n,) steps taken"""
    terminated: np.ndarray
    """(n,) the episode ended by falling (not by max_steps)"""
    scores: np.ndarray
    """(n,) D4RL-normalised scores of the returns"""
    learned_rewards: List[np.ndarray]
    """(L_i,): learned reward r(w_k, t=0) of the normalised window w_k of executed [observation, action] rows
    k .. k+horizon-1 (rows past the episode's end repeat its last row)"""
    qpos: Optional[List[np.ndarray]] = None
    """(L_i + 1, nq) if recorded: MuJoCo qpos before each step and after the last one (for replaying videos)"""
    qvel: Optional[List[np.ndarray]] = None
    """(L_i + 1, nv) if recorded"""
    seconds: float = 0.0
    """wall time of the rollout"""
    t_startgrads: Optional[np.ndarray] = None
    """t_startgrad of each episode (the reward guides reverse steps t < t_startgrad); None: every step"""

    @property
    def scale(self) -> float:
        return float(self.scales[0]) if len(self.scales) else 0.0

    def to_json(self, per_step: bool = False) -> dict:
        out = {"env": self.env, "planner": self.planner, "seeds": list(map(int, self.seeds)),
               "scales": self.scales.tolist(), "t_stopgrads": self.t_stopgrads.tolist(),
               **({} if self.t_startgrads is None else {"t_startgrads": self.t_startgrads.tolist()}),
               "returns": self.returns.tolist(), "lengths": self.lengths.tolist(),
               "terminated": self.terminated.tolist(), "scores": self.scores.tolist(),
               "learned_reward_mean": [float(r.mean()) if len(r) else float("nan") for r in self.learned_rewards],
               "seconds": self.seconds}
        if per_step:
            out["env_rewards"] = [r.tolist() for r in self.env_rewards]
            out["learned_rewards"] = [r.tolist() for r in self.learned_rewards]
        return out


@torch.no_grad()
def learned_window_rewards(models: LocomotionModels, observations: np.ndarray, actions: np.ndarray,
                           chunk: int = 2048) -> np.ndarray:
    """r(w_k, t=0) for each step k of one executed trajectory (see ``EpisodeBatch.learned_rewards``)."""
    rows = np.concatenate([observations, actions], axis=1).astype(np.float32)
    n = len(rows)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    index = np.minimum(np.arange(n)[:, None] + np.arange(models.horizon)[None, :], n - 1)
    windows = torch.from_numpy(models.normalizer.normalize(rows)[index]).to(models.device)
    out = []
    for start in range(0, n, chunk):
        part = windows[start: start + chunk]
        t = torch.zeros(part.shape[0], dtype=torch.long, device=models.device)
        out.append(models.reward(part, t).float().cpu())
    return torch.cat(out).numpy()


def rollout(models: LocomotionModels, seeds: Sequence[int], scales: Sequence[float], t_stopgrads: Sequence[int],
            max_steps: int = MAX_EPISODE_STEPS, planner: str = "base", record_states: bool = False,
            progress: Optional[Callable[[int, int], None]] = None, generator_seed: int = 0,
            guidance: str = "input", on_state: Optional[Callable[[torch.Tensor, torch.Tensor], None]] = None,
            on_step: Optional[Callable[[int, dict], None]] = None,
            t_startgrads: Union[None, int, Sequence[int]] = None) -> EpisodeBatch:
    """Run one episode per seed, all stepping together; per-episode steering settings (see ``run_episodes``;
    ``t_startgrads``: one window for every episode or one per episode, None: guidance from the first reverse
    step in every episode); ``on_state`` sees every
    reverse-chain state of the steered plans (see ``plan``).

    ``on_step(steps_done, history)`` is called after every environment step with the run so far, for showing it
    while it runs: ``history`` holds per episode the lists ``observations``, ``actions``, ``env_rewards`` (and
    ``qpos`` when recorded), which grow by appending as the run goes on, and ``terminated``, a copy; read it,
    never change it."""
    import gymnasium as gym

    seeds = [int(s) for s in seeds]
    n = len(seeds)
    if n == 0:
        raise ValueError("seeds must not be empty")
    scales_np = np.asarray(scales, dtype=np.float64).reshape(n)
    stops_np = np.asarray(t_stopgrads, dtype=np.int64).reshape(n)
    starts_np = None
    if t_startgrads is not None:
        starts_np = np.asarray(t_startgrads, dtype=np.int64)
        if starts_np.ndim > 1 or starts_np.size not in (1, n):
            raise ValueError(f"t_startgrads must be one value or one per seed ({n}), got {t_startgrads!r}")
        starts_np = np.broadcast_to(starts_np.reshape(-1), (n,)).copy()
    for i, (s, k) in enumerate(zip(scales_np, stops_np)):
        check_run_args(models, float(s), int(k), max_steps, planner, None if starts_np is None else int(starts_np[i]))
    uniform = (len(set(scales_np.tolist())) == 1 and len(set(stops_np.tolist())) == 1
               and (starts_np is None or len(set(starts_np.tolist())) == 1))
    device = models.device
    started = time.time()
    envs = [gym.make(gym_id(models.env)) for _ in seeds]
    low, high = envs[0].action_space.low, envs[0].action_space.high
    obs = np.stack([env.reset(seed=seed)[0] for env, seed in zip(envs, seeds)]).astype(np.float32)
    obs_hist, act_hist, rew_hist = [[] for _ in seeds], [[] for _ in seeds], [[] for _ in seeds]
    qpos = [[env.unwrapped.data.qpos.copy()] for env in envs] if record_states else None
    qvel = [[env.unwrapped.data.qvel.copy()] for env in envs] if record_states else None
    running = np.ones(n, dtype=bool)
    terminated = np.zeros(n, dtype=bool)
    generator = torch.Generator(device=device).manual_seed(int(generator_seed))
    obs_cols = slice(0, models.obs_dim)
    act_cols = slice(models.obs_dim, models.obs_dim + models.action_dim)
    try:
        for step in range(int(max_steps)):
            active = np.flatnonzero(running)
            if progress is not None:
                progress(step, int(max_steps))
            start = torch.from_numpy(models.normalizer.normalize(obs[active], obs_cols)).to(device)
            if uniform:
                scale, stop = float(scales_np[0]), int(stops_np[0])
                begin = None if starts_np is None else int(starts_np[0])
            else:
                scale = torch.as_tensor(scales_np[active], dtype=torch.float32, device=device)
                stop = torch.as_tensor(stops_np[active], dtype=torch.long, device=device)
                begin = None if starts_np is None else torch.as_tensor(starts_np[active], dtype=torch.long,
                                                                       device=device)
            x = plan(models, start, scale, stop, planner, generator, guidance, on_state, begin)
            actions = models.normalizer.unnormalize(x[:, 0, act_cols].cpu().numpy(), act_cols)
            actions = np.clip(actions, low, high).astype(np.float32)
            for j, i in enumerate(active):
                next_obs, reward, term, trunc, _ = envs[i].step(actions[j])
                obs_hist[i].append(obs[i].copy())
                act_hist[i].append(actions[j])
                rew_hist[i].append(float(reward))
                if record_states:
                    qpos[i].append(envs[i].unwrapped.data.qpos.copy())
                    qvel[i].append(envs[i].unwrapped.data.qvel.copy())
                obs[i] = next_obs
                if term:
                    terminated[i] = True
                if term or trunc:
                    running[i] = False
            if on_step is not None:
                on_step(step + 1, {"observations": obs_hist, "actions": act_hist, "env_rewards": rew_hist,
                                   "qpos": qpos, "terminated": terminated.copy()})
            if not running.any():
                break
        if progress is not None:
            progress(int(max_steps), int(max_steps))
    finally:
        for env in envs:
            env.close()
    obs_dim, action_dim = models.obs_dim, models.action_dim
    observations = [np.asarray(o, dtype=np.float32).reshape(-1, obs_dim) for o in obs_hist]
    actions = [np.asarray(a, dtype=np.float32).reshape(-1, action_dim) for a in act_hist]
    env_rewards = [np.asarray(r, dtype=np.float64) for r in rew_hist]
    returns = np.array([r.sum() for r in env_rewards])
    return EpisodeBatch(
        env=models.env, planner=planner, seeds=seeds, scales=scales_np, t_stopgrads=stops_np,
        observations=observations, actions=actions, env_rewards=env_rewards, returns=returns,
        lengths=np.array([len(r) for r in env_rewards]), terminated=terminated,
        scores=np.array([normalized_score(models.env, r) for r in returns]),
        learned_rewards=[learned_window_rewards(models, o, a) for o, a in zip(observations, actions)],
        qpos=[np.stack(q) for q in qpos] if record_states else None,
        qvel=[np.stack(q) for q in qvel] if record_states else None,
        seconds=time.time() - started, t_startgrads=starts_np)


def run_episodes(models: LocomotionModels, seeds: Sequence[int], scale: float, t_stopgrad: int,
                 max_steps: int = MAX_EPISODE_STEPS, planner: str = "base", record_states: bool = False,
                 progress: Optional[Callable[[int, int], None]] = None, generator_seed: int = 0,
                 guidance: Optional[str] = None, t_startgrad: Optional[int] = None) -> EpisodeBatch:
    """Run one episode per seed with a diffusion planner, all episodes stepping together.

    Each env is ``gymnasium.make(<env>-v5)`` reset with its seed; at every env step one plan is sampled for all
    still-running episodes in one batch (start observation inpainted, T reverse steps), and the first action of
    each plan is executed (unnormalised, clipped to the action bounds).

    Args:
        models: from ``load_locomotion_models``.
        seeds: one gymnasium reset seed per episode.
        scale: steering scale (0 = the unsteered planner); steers the base planner with ``steering.RewardGuide``
            (one gradient step on the learned reward before each reverse step t >= t_stopgrad); ignored by the
            expert planner.
        t_stopgrad: no steering at reverse steps t < t_stopgrad, in [0, T].
        max_steps: episode length cap, in [1, 1000].
        planner: "base" or "expert".
        record_states: also keep MuJoCo qpos/qvel per step (to render videos afterwards).
        progress: called as ``progress(step, max_steps)`` before every env step (and once at the end); raising
            from it cancels the run.
        generator_seed: seeds the planner's noise.
        guidance: "input" or "mean" (see ``plan``); None: the models' default (``models.defaults["guidance"]``).
        t_startgrad: no steering at reverse steps t >= t_startgrad, in [1, T]; None: steering from the first
            reverse step (the reference's).
    """
    check_run_args(models, scale, t_stopgrad, max_steps, planner, t_startgrad)
    guidance = guidance or models.guidance
    if guidance not in GUIDANCE:
        raise ValueError(f"guidance must be one of {', '.join(GUIDANCE)}, got {guidance!r}")
    n = len(seeds)
    return rollout(models, seeds, [float(scale)] * n, [int(t_stopgrad)] * n, max_steps, planner, record_states,
                   progress, generator_seed, guidance,
                   t_startgrads=t_startgrad)
