"""Saving and loading models as ``config.json`` + ``model.safetensors`` (never pickle).

``@register`` makes a network class loadable by name and records the arguments each instance was built with
in ``self.config`` (as diffusers' ``register_to_config`` does), so no network writes its own config. A saved
``config.json`` is ``{"architecture", "config", "metadata", "dtype"}``; nested networks (the denoiser inside a
``GaussianDiffusion``) are nested ``{"architecture", "config"}`` specs. ``from_pretrained`` rebuilds the
architecture named in the JSON and checks every tensor's name and shape before loading, so a wrong or
truncated folder fails with a message saying what is wrong.
"""
from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from .options import device_override

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
REGISTRY: Dict[str, type] = {}


def plain(value):
    """``value`` in JSON types (tuples and arrays as lists, numpy scalars as numbers); modules stay modules."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def register(cls=None, *, ignore: Sequence[str] = (), omit_defaults: Sequence[str] = ()):
    """Class decorator: make a network loadable by name from a config file, and record the arguments each
    instance is built with (defaults filled in, ``**kwargs`` flattened, in JSON types) as ``self.config``.

    Args:
        ignore: arguments left out of the config (e.g. tensors that travel in the state dict instead).
        omit_defaults: arguments recorded only when they differ from their default, so that configs written
            before the argument existed stay as they were.
    """

    def decorate(cls):
        init = cls.__init__
        signature = inspect.signature(init)
        defaults = {name: p.default for name, p in signature.parameters.items()}

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            init(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            config = {}
            for name, value in list(bound.arguments.items())[1:]:
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    config.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    raise TypeError(f"{cls.__name__}: *{name} cannot be recorded in a config")
                elif name not in ignore and not (name in omit_defaults and value == defaults[name]):
                    config[name] = value
            self.config = plain(config)

        cls.__init__ = __init__
        REGISTRY[cls.__name__] = cls
        return cls

    return decorate if cls is None else decorate(cls)


def default_device(override: Optional[str] = None) -> torch.device:
    """``override``, else $REWARD_DEMO_DEVICE, else CUDA when available, else the CPU."""
    name = override or device_override()
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def module_spec(module: nn.Module) -> Dict[str, Any]:
    if type(module).__name__ not in REGISTRY or not hasattr(module, "config"):
        raise TypeError(f"{type(module).__name__} is not a registered network with a `config`")
    config = {k: module_spec(v) if isinstance(v, nn.Module) else v for k, v in module.config.items()}
    return {"architecture": type(module).__name__, "config": config}


def build(spec: Dict[str, Any]) -> nn.Module:
    """Instantiate the architecture a spec names (nested specs first)."""
    name = spec.get("architecture")
    if name not in REGISTRY:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(REGISTRY)}")
    kwargs = {k: build(v) if isinstance(v, dict) and "architecture" in v else v for k, v in spec["config"].items()}
    return REGISTRY[name](**kwargs)


def save_pretrained(module: nn.Module, directory: Union[str, Path], metadata: Optional[dict] = None,
                    dtype: torch.dtype = torch.float32) -> Path:
    """Write ``config.json`` (architecture, sizes, metadata) and ``model.safetensors``: parameters in ``dtype``,
    buffers (noise schedules, normalisation statistics) always in float32, where fp16 rounding would shift them."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = module_spec(module)
    spec["metadata"] = metadata if metadata is not None else getattr(module, "metadata", {})
    spec["dtype"] = str(dtype).replace("torch.", "")
    parameters = {name for name, _ in module.named_parameters()}
    state = {k: v.detach().to("cpu", (dtype if k in parameters else torch.float32) if v.is_floating_point()
                              else v.dtype).contiguous() for k, v in module.state_dict().items()}
    # written beside the target and renamed, so an interrupted save never leaves half a model behind
    save_file(state, str(directory / (WEIGHTS_NAME + ".tmp")))
    (directory / (CONFIG_NAME + ".tmp")).write_text(json.dumps(spec, indent=2) + "\n")
    (directory / (WEIGHTS_NAME + ".tmp")).replace(directory / WEIGHTS_NAME)
    (directory / (CONFIG_NAME + ".tmp")).replace(directory / CONFIG_NAME)
    return directory


def saved_modules_present(directory: Union[str, Path], names: Sequence[str]) -> bool:
    """True when every ``directory/name`` holds a module saved by ``save_pretrained`` (config and weights)."""
    return all((Path(directory) / name / file).is_file() for name in names for file in (CONFIG_NAME, WEIGHTS_NAME))


def read_config(directory: Union[str, Path]) -> Dict[str, Any]:
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {directory}: not a saved model folder")
    return json.loads(path.read_text())


def from_pretrained(directory: Union[str, Path], device: Optional[Union[str, torch.device]] = None) -> nn.Module:
    """Rebuild a saved model in float32 on ``device`` (default: ``default_device()``), in eval mode."""
    directory = Path(directory)
    spec = read_config(directory)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"no {WEIGHTS_NAME} in {directory}")
    module = build(spec)
    state = load_file(str(weights))
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
                  for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or mismatched:
        raise ValueError(
            f"weights in {weights} do not match the {spec['architecture']} in its config: "
            f"missing={missing[:5]} unexpected={unexpected[:5]} mismatched={mismatched[:5]}"
        )
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    module.metadata = spec.get("metadata", {})
    return module.to(default_device(device)).eval()
