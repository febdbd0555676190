"""The trained models of one locomotion env as one bundle (``LocomotionModels``) and its loader: the base and
expert diffusion planners and a reward (``train.py``), from the shipped checkpoints or another root.

The loader takes the paper's offline reward (``reward``, Algorithm 1) unless asked for another one of
``REWARDS``: the on-policy fine-tuned ``reward_onpolicy`` (``onpolicy.py``, this project's extension) is used only
when named. Each reward brings the steering it is meant for (``steering_of``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import torch

from ..checkpoint import default_device, from_pretrained, read_config
from ..diffusion import GaussianDiffusion
from ..networks import UnetEncoderReward
from ..options import LOCOMOTION_CHECKPOINTS as CHECKPOINT_ROOT  # noqa: F401  (re-exported)
from ..options import locomotion_checkpoints
from .data import env_key
from .train import GaussianNormalizer

#: the paper reward's steering per environment: the best mean score of the validation sweeps of mean and input
#: guidance on reset seeds 200000-200005 (``python -m reward_demo locomotion sweep``; assets/locomotion_eval.json,
#: "sweep"), never the evaluation seeds; Hopper's and Walker2d's t_startgrad by the window rule on validation seeds
#: 200108-200131 (assets/locomotion_eval.json, "window")
DEFAULT_STEERING: Dict[str, dict] = {
    "hopper": {"scale": 2.0, "t_stopgrad": 0, "guidance": "mean", "t_startgrad": 10},
    "halfcheetah": {"scale": 0.2, "t_stopgrad": 5, "guidance": "input"},
    "walker2d": {"scale": 1.0, "t_stopgrad": 0, "guidance": "input", "t_startgrad": 10},
}


@dataclass
class LocomotionModels:
    """The three trained models of one locomotion env, on one device, and what is needed to plan with them."""

    env: str
    base: GaussianDiffusion
    expert: GaussianDiffusion
    reward: UnetEncoderReward
    normalizer: GaussianNormalizer
    horizon: int
    obs_dim: int
    action_dim: int
    defaults: Dict[str, float] = field(default_factory=dict)
    """{"scale": float, "t_stopgrad": int[, "guidance": str][, "t_startgrad": int]}: the steering the reward is
    meant for"""
    reward_name: str = "paper"
    """which of ``REWARDS`` the reward is"""
    reward_folder: str = "reward"
    """its folder in the env's checkpoint folder"""
    reward_kind: str = ""
    """its config's ``metadata["kind"]`` (e.g. "reward (fine-tuned on-policy, 4 rounds)")"""
    base_folder: str = "base"
    """the folder of the base planner, the one the reward steers (``base_planner_of``)"""

    @property
    def n_timesteps(self) -> int:
        return self.base.n_timesteps

    @property
    def device(self) -> torch.device:
        return self.base.betas.device

    @property
    def guidance(self) -> str:
        """How the reward is meant to steer: "input" (the reference's) or "mean" (an on-policy reward)."""
        return self.defaults.get("guidance", "input")

    @property
    def t_startgrad(self) -> Optional[int]:
        """The reward guides only reverse steps t < t_startgrad (this project's steering option, chosen on
        validation seeds); None: every step from the first, the reference's."""
        value = self.defaults.get("t_startgrad")
        return None if value is None else int(value)

    def reward_info(self) -> dict:
        """{"name", "label", "folder", "kind", "base_planner"} of the reward, as the evaluation JSON records it."""
        return {"name": self.reward_name, "label": REWARD_LABELS.get(self.reward_name, self.reward_name),
                "folder": self.reward_folder, "kind": self.reward_kind, "base_planner": self.base_folder}


def checkpoint_root(root: Optional[str] = None) -> Path:
    """``root``, else $REWARD_DEMO_LOCOMOTION_CHECKPOINTS, else the shipped checkpoints/locomotion."""
    return locomotion_checkpoints(root)


#: the rewards a locomotion env can plan with: {name: its folder in ROOT/ENV}
REWARDS: Dict[str, str] = {"paper": "reward", "onpolicy": "reward_onpolicy"}
#: one line per reward, for tables, headlines and the tab's choice
REWARD_LABELS: Dict[str, str] = {"paper": "paper (offline)", "onpolicy": "on-policy fine-tuned (extension)"}
#: the command that makes each reward's folder
REWARD_COMMANDS: Dict[str, str] = {"paper": "python -m reward_demo locomotion train-planners --env {env}",
                                   "onpolicy": "python -m reward_demo locomotion finetune-reward --env {env}"}
DEFAULT_REWARD = "paper"
ONPOLICY_REWARD = REWARDS["onpolicy"]


def check_reward(reward) -> str:
    """``reward`` when it is a name of ``REWARDS``, else a ValueError naming the choices."""
    if not isinstance(reward, str) or reward not in REWARDS:
        labels = "; ".join(f"{name}: {label}" for name, label in REWARD_LABELS.items())
        raise ValueError(f"reward must be one of {', '.join(REWARDS)} ({labels}), got {reward!r}")
    return reward


def reward_present(folder: Path, reward: str) -> bool:
    return (Path(folder) / REWARDS[check_reward(reward)] / "model.safetensors").is_file()


def available_rewards(env: str, root: Optional[str] = None) -> List[str]:
    """The names of ``REWARDS`` whose checkpoint ``env`` has under ``root`` (the paper's first)."""
    folder = checkpoint_root(root) / env_key(env)
    return [name for name in REWARDS if reward_present(folder, name)]


def reward_folder(env: str, folder: Path, reward: str = DEFAULT_REWARD) -> str:
    """The folder name of ``reward`` in ``folder`` (an env's models folder); a FileNotFoundError saying which
    command makes it when it is not there."""
    reward = check_reward(reward)
    if not reward_present(folder, reward):
        present = [name for name in REWARDS if reward_present(folder, name)]
        raise FileNotFoundError(
            f"locomotion env {env!r} has no {reward!r} reward ({REWARD_LABELS[reward]}): no "
            f"{Path(folder) / REWARDS[reward] / 'model.safetensors'}; its rewards: {', '.join(present) or 'none'}. "
            f"Make it with: {REWARD_COMMANDS[reward].format(env=env)}")
    return REWARDS[reward]


def steering_of(env: str, reward_metadata: dict) -> dict:
    """The steering a reward is meant for: the setting it was fine-tuned for (``metadata["steering"]``), else the
    env's sweep-chosen ``DEFAULT_STEERING``."""
    return dict(reward_metadata.get("steering") or DEFAULT_STEERING[env])


def base_planner_of(reward_metadata: dict) -> str:
    """The folder of the base planner a reward steers: the one it was fitted with where its config names one
    (``metadata["base_planner"]``: an on-policy reward fitted on another base planner's chains keeps planning with
    that one), else the env's ``base``."""
    return str(reward_metadata.get("base_planner") or "base")


def steered_base_planner(folder: Path, reward_folder_name: str) -> str:
    """``base_planner_of`` the reward saved in ``folder / reward_folder_name``, read from its config only."""
    return base_planner_of(read_config(Path(folder) / reward_folder_name).get("metadata", {}))


def steering_defaults(env: str, root: Optional[str] = None, reward: str = DEFAULT_REWARD) -> dict:
    """``steering_of`` the reward ``load_locomotion_models(env, root, reward=reward)`` would load, read from its
    config only (errors as ``reward_folder``)."""
    key = env_key(env)
    folder = checkpoint_root(root) / key
    metadata = read_config(folder / reward_folder(key, folder, reward)).get("metadata", {})
    return steering_of(key, metadata)


def models_from_folder(env: str, folder: Path, device: Optional[str] = None,
                       reward: str = DEFAULT_REWARD, replay: bool = True) -> LocomotionModels:
    """The models in ``folder``, the reward named ``reward`` (``REWARDS``: "paper" or "onpolicy") and the base
    planner it steers (``base_planner_of``), with ``steering_of`` that reward as the defaults. ``replay``: the three
    networks run as recorded graphs (``networks.Network.replay``: bitwise the same plans, about a third faster at
    batch 1 on a CPU)."""
    reward = check_reward(reward)
    base_name = "base"
    if reward_present(folder, reward):
        base_name = steered_base_planner(folder, REWARDS[reward])
    missing = [k for k in (base_name, "expert") if not (Path(folder) / k / "model.safetensors").is_file()]
    if missing:
        raise FileNotFoundError(f"no trained {'/'.join(missing)} model for locomotion env {env!r} in {folder}; train "
                                f"them with: python -m reward_demo locomotion train-planners --env {env}")
    folder_name = reward_folder(env, folder, reward)
    dev = default_device(device)
    base, expert, reward_model = (from_pretrained(Path(folder) / k, dev) for k in (base_name, "expert", folder_name))
    meta = reward_model.metadata
    for network in (base.model, expert.model, reward_model):
        network.requires_grad_(False).eval().replay(replay)
    normalizer = GaussianNormalizer(tuple(meta["normalizer"]["mean"]), tuple(meta["normalizer"]["std"]))
    return LocomotionModels(env, base, expert, reward_model, normalizer, int(meta["horizon"]), int(meta["obs_dim"]),
                            int(meta["action_dim"]), steering_of(env, meta), reward, folder_name,
                            str(meta.get("kind", "")), base_name)


@functools.lru_cache(maxsize=16)
def load_locomotion_models(env: str, root: Optional[str] = None, device: Optional[str] = None,
                           reward: str = DEFAULT_REWARD, replay: bool = True) -> LocomotionModels:
    """Load (once) the base planner, expert planner and reward of ``env`` (hopper, halfcheetah or walker2d) from
    ``root`` (default: $REWARD_DEMO_LOCOMOTION_CHECKPOINTS, else the shipped checkpoints/locomotion).

    ``reward``: "paper" (default: the paper's offline reward, Algorithm 1, folder ``reward``) or "onpolicy"
    (this project's on-policy fine-tuned extension, ``reward_onpolicy``, where ``finetune-reward`` made one).
    ``replay``: as ``models_from_folder`` (False: eager networks, for comparison)."""
    key = env_key(env)
    return models_from_folder(key, checkpoint_root(root) / key, device, check_reward(reward), replay)
