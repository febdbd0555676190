"""The exported expert policy as plain torch: the deterministic CrossQ actor (``ExpertActor``), copied out of an
sb3-contrib model, saved and loaded through ``checkpoint`` (stable-baselines3 is only needed to train it)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Tuple

import numpy as np
import torch
from torch import nn

from ..checkpoint import CONFIG_NAME, WEIGHTS_NAME, from_pretrained, read_config, register, save_pretrained


class _FrozenBatchRenorm(nn.Module):
    """BatchRenorm1d in evaluation mode: (x - mean) / sqrt(var + eps) * scale + bias."""

    def __init__(self, width: int, eps: float):
        super().__init__()
        self.eps = eps
        for name, value in (("mean", 0.0), ("var", 1.0), ("scale", 1.0), ("bias", 0.0)):
            self.register_buffer(name, torch.full((width,), value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.sqrt(self.var + self.eps) * self.scale + self.bias


@register
class ExpertActor(nn.Module):
    """The deterministic CrossQ actor: [BatchRenorm -> Linear -> ReLU] per hidden layer, BatchRenorm,
    Linear -> tanh, rescaled to the action bounds. ``batch_norm=False`` drops the BatchRenorm layers."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: Tuple[int, ...], batch_norm: bool = True,
                 eps: float = 1e-3, action_low=None, action_high=None):
        super().__init__()
        widths = [obs_dim, *hidden]
        self.norms = nn.ModuleList([_FrozenBatchRenorm(w, eps) for w in widths] if batch_norm else [])
        self.linears = nn.ModuleList([nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])])
        self.mu = nn.Linear(widths[-1], action_dim)
        low = (torch.full((action_dim,), -1.0) if action_low is None
               else torch.as_tensor(action_low, dtype=torch.float32))
        high = (torch.full((action_dim,), 1.0) if action_high is None
                else torch.as_tensor(action_high, dtype=torch.float32))
        self.register_buffer("action_low", low.clone())
        self.register_buffer("action_high", high.clone())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs
        for i, linear in enumerate(self.linears):
            if len(self.norms):
                x = self.norms[i](x)
            x = torch.relu(linear(x))
        if len(self.norms):
            x = self.norms[-1](x)
        squashed = torch.tanh(self.mu(x))
        return self.action_low + 0.5 * (squashed + 1.0) * (self.action_high - self.action_low)


def actor_from_sb3(model) -> Tuple[ExpertActor, dict]:
    """Copy the weights of an sb3-contrib CrossQ model's actor into an :class:`ExpertActor`; returns it and its
    config."""
    from sb3_contrib.common.torch_layers import BatchRenorm1d

    sb3_actor = model.policy.actor
    if getattr(sb3_actor, "use_sde", False):
        raise ValueError("gSDE actors are not supported")
    modules = list(sb3_actor.latent_pi)
    norms = [m for m in modules if isinstance(m, BatchRenorm1d)]
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    if not all(isinstance(m, (BatchRenorm1d, nn.Linear, nn.ReLU)) for m in modules):
        raise ValueError("only ReLU actors are supported")
    space = model.action_space
    config = {
        "algorithm": "CrossQ (sb3-contrib)",
        "obs_dim": int(model.observation_space.shape[0]),
        "action_dim": int(space.shape[0]),
        "hidden": [int(m.out_features) for m in linears],
        "batch_norm": bool(norms),
        "eps": float(norms[0].eps) if norms else 1e-3,
        "activation": "relu",
        "output": "tanh, rescaled to [action_low, action_high]",
        "action_low": [float(v) for v in space.low],
        "action_high": [float(v) for v in space.high],
    }
    actor = ExpertActor(config["obs_dim"], config["action_dim"], tuple(config["hidden"]), config["batch_norm"],
                        config["eps"], config["action_low"], config["action_high"])
    with torch.no_grad():
        for mine, theirs in zip(actor.norms, norms):
            mine.mean.copy_(theirs.ra_mean)
            mine.var.copy_(theirs.ra_var)
            mine.scale.copy_(theirs.scale)
            mine.bias.copy_(theirs.bias)
        for mine, theirs in zip(actor.linears, linears):
            mine.load_state_dict(theirs.state_dict())
        actor.mu.load_state_dict(sb3_actor.mu.state_dict())
    return actor.eval(), config


def save_actor(actor: ExpertActor, config: dict, directory: Path) -> None:
    """``save_pretrained`` the actor; what ``config`` holds beyond its constructor arguments (the algorithm, the
    evaluation, the training run) goes into the metadata."""
    save_pretrained(actor, directory, metadata={k: v for k, v in config.items() if k not in actor.config})


def load_actor(directory: Path) -> Tuple[ExpertActor, dict]:
    """The actor in ``directory`` (on the CPU, in eval mode) and its flat config: constructor arguments and
    metadata in one dict. Reads ``save_pretrained`` folders and the flat ``config.json`` of policies exported
    before the actor was saved that way (the shipped ones)."""
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / WEIGHTS_NAME).is_file() or not (directory / CONFIG_NAME).is_file():
        raise FileNotFoundError(f"no expert policy in {directory} (config.json + model.safetensors); train one with "
                                f"`python -m reward_demo locomotion train-expert`")
    spec = read_config(directory)
    if "architecture" in spec:
        actor = from_pretrained(directory, "cpu")
        return actor, {**actor.config, **actor.metadata}
    actor = ExpertActor(spec["obs_dim"], spec["action_dim"], tuple(spec["hidden"]), spec["batch_norm"],
                        spec["eps"], spec["action_low"], spec["action_high"])
    actor.load_state_dict(load_file(str(directory / WEIGHTS_NAME)))
    return actor.eval(), spec


def policy_fn(actor: ExpertActor) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap an actor as ``f(obs batch or single obs, numpy) -> actions (numpy float32)``."""

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float32))
            return actor(x).numpy()

    act.actor = actor  # type: ignore[attr-defined]
    return act
