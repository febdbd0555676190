"""One training loop for every model in the project (denoisers and rewards), under Hugging Face Accelerate.

The same command runs on this CPU, on one GPU, or on several processes (``accelerate launch ...``):
each process draws its own batches from a generator seeded by (seed, process index), gradients are
averaged by DDP, and only the main process writes files.

Training is resumable: every ``save_every`` steps the weights, their EMA, the Adam state, the random
generator and the step are written to ``<out_dir>/training_state/`` as safetensors + JSON (no pickle),
and a new run with the same ``out_dir`` continues from there. The final EMA weights are written to
``out_dir`` with ``save_pretrained``.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from .checkpoint import save_pretrained

STATE_DIR = "training_state"


@dataclass
class TrainConfig:
    """Options shared by every trainer."""

    steps: int = 1000
    """total optimisation steps"""
    batch_size: int = 64
    """samples per step and per process"""
    lr: float = 2e-4
    """Adam learning rate (no weight decay)"""
    ema_decay: float = 0.995
    """decay of the exponential moving average of the weights (what is saved and used)"""
    grad_clip: float = 0.0
    """clip the gradient norm to this value (0 = no clipping)"""
    eval_every: int = 200
    """steps between held-out validation losses"""
    save_every: int = 500
    """steps between resumable training states"""
    seed: int = 0
    """seed of the batch sampling and of the initial weights"""
    cpu: bool = False
    """train on the CPU even when a GPU is present"""
    progress: bool = True
    """show a tqdm progress bar"""


class EMA:
    """Exponential moving average of a module's floating-point parameters and buffers."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module):
        for ema_value, value in zip(self.model.state_dict().values(), model.state_dict().values()):
            if ema_value.is_floating_point():
                ema_value.lerp_(value.detach(), 1.0 - self.decay)
            else:
                ema_value.copy_(value)


def _optimizer_state_tensors(optimizer: torch.optim.Optimizer):
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            key = f"optimizer.{index}.{name}"
            if torch.is_tensor(value):
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars[key] = value
    return tensors, scalars, state["param_groups"]


def _restore_optimizer(optimizer, tensors: Dict[str, torch.Tensor], scalars: dict, param_groups: list):
    state: Dict[int, dict] = {}
    for key, value in list(tensors.items()) + list(scalars.items()):
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def save_training_state(out_dir: Path, step: int, model: nn.Module, ema: EMA, optimizer, generator: torch.Generator,
                        history: List[dict], config: TrainConfig):
    state_dir = Path(out_dir) / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.model.state_dict().items()})
    opt_tensors, opt_scalars, param_groups = _optimizer_state_tensors(optimizer)
    tensors.update(opt_tensors)
    tensors["generator"] = generator.get_state()
    tensors["torch_rng"] = torch.get_rng_state()  # losses draw t and noise from the global generator
    # write then rename, so that a run killed mid-save leaves the previous state intact
    save_file(tensors, str(state_dir / "state.safetensors.tmp"))
    (state_dir / "state.json.tmp").write_text(json.dumps(
        {"step": step, "optimizer_scalars": opt_scalars, "param_groups": param_groups,
         "history": history, "config": asdict(config)}))
    (state_dir / "state.safetensors.tmp").replace(state_dir / "state.safetensors")
    (state_dir / "state.json.tmp").replace(state_dir / "state.json")


def load_training_state(out_dir: Path, model: nn.Module, ema: EMA, optimizer, generator: torch.Generator):
    """Restore a saved state in place; returns (step, history), or (0, []) when there is none."""
    state_dir = Path(out_dir) / STATE_DIR
    if not (state_dir / "state.json").is_file():
        return 0, []
    meta = json.loads((state_dir / "state.json").read_text())
    tensors = load_file(str(state_dir / "state.safetensors"))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.model.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    _restore_optimizer(optimizer, {k: v for k, v in tensors.items() if k.startswith("optimizer.")},
                       meta["optimizer_scalars"], meta["param_groups"])
    generator.set_state(tensors["generator"])
    if "torch_rng" in tensors:
        torch.set_rng_state(tensors["torch_rng"])
    return int(meta["step"]), meta["history"]


def _broadcast_parameters(model: nn.Module, accelerator):
    """Start every process from the main process's weights."""
    if accelerator.num_processes > 1:
        import torch.distributed as dist

        for tensor in model.state_dict().values():
            dist.broadcast(tensor.data, src=0)


def _average_gradients(model: nn.Module, accelerator):
    """All-reduce the mean gradient over processes in one flat tensor (missing gradients count as 0)."""
    if accelerator.num_processes == 1:
        return
    import torch.distributed as dist

    params = [p for p in model.parameters() if p.requires_grad]
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in params])
    dist.all_reduce(flat)
    flat /= accelerator.num_processes
    offset = 0
    for p in params:
        p.grad = flat[offset: offset + p.numel()].view_as(p).clone()
        offset += p.numel()


@dataclass
class TrainResult:
    model: nn.Module
    """the EMA model (unwrapped, eval mode)"""
    history: List[dict] = field(default_factory=list)
    """one entry per evaluation: step, train loss, validation loss, seconds"""


def train(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, dict], torch.Tensor],
    sample_batch: Callable[[int, torch.Generator, torch.device], dict],
    config: TrainConfig,
    out_dir: Optional[Path] = None,
    validation_loss: Optional[Callable[[nn.Module], float]] = None,
    metadata: Optional[dict] = None,
    save_dtype: torch.dtype = torch.float32,
    save_final: Optional[Callable[[nn.Module, Path, dict], None]] = None,
) -> TrainResult:
    """Optimise ``loss_fn(model, batch)`` over batches from ``sample_batch(batch_size, generator, device)``.

    Args:
        model: the network to train (its EMA copy is what is returned and saved).
        loss_fn: scalar loss of one batch.
        sample_batch: draws one batch (a dict of tensors) with the given generator, on the device.
        config: optimisation options.
        out_dir: where training states and the final model go; None keeps everything in memory.
        validation_loss: held-out loss of a model (called on the EMA model every ``eval_every`` steps).
        metadata: stored in the saved model's config.json (how it was trained, normalisers, ...).
        save_dtype: dtype of the final weights file.
        save_final: writes the final model, ``save_final(model, out_dir, metadata)``, instead of the
            project's ``save_pretrained`` (for models that save themselves, e.g. diffusers models).
    """
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    accelerator = Accelerator(cpu=config.cpu)
    device = accelerator.device
    torch.manual_seed(config.seed)
    generator = torch.Generator(device="cpu").manual_seed(config.seed * 1000 + accelerator.process_index)
    model = model.to(device)
    _broadcast_parameters(model, accelerator)
    ema = EMA(model, config.ema_decay)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    start, history = (0, [])
    if out_dir is not None:
        start, history = load_training_state(out_dir, model, ema, optimizer, generator)
        if start and accelerator.is_main_process:
            print(f"resuming {out_dir} from step {start}")
    # Gradients are averaged by hand instead of by DDP: a reward's loss is a function of grad_x r
    # (double backward), which DDP's reducer does not support, and some parameters (the output bias)
    # never receive a gradient at all.
    optimizer = accelerator.prepare_optimizer(optimizer, device_placement=False)
    ema.model.to(device)

    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, desc="training",
               disable=not (config.progress and accelerator.is_main_process), dynamic_ncols=True)
    running, began = [], time.time()
    for step in bar:
        batch = sample_batch(config.batch_size, generator, device)
        loss = loss_fn(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        _average_gradients(model, accelerator)
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        ema.update(model)
        running.append(loss.item())
        done = step + 1
        if done % config.eval_every == 0 or done == config.steps:
            entry = {"step": done, "train_loss": sum(running) / len(running), "seconds": time.time() - began}
            if validation_loss is not None:
                entry["val_loss"] = float(validation_loss(ema.model))
            history.append(entry)
            running = []
            bar.set_postfix({k: f"{v:.3g}" for k, v in entry.items() if k.endswith("loss")})
        if out_dir is not None and accelerator.is_main_process and (
                done % config.save_every == 0 or done == config.steps):
            save_training_state(out_dir, done, model, ema, optimizer, generator,
                                history, config)
        if not math.isfinite(running[-1] if running else 0.0):
            raise FloatingPointError(f"training loss became {running[-1]} at step {done}")
    accelerator.wait_for_everyone()
    final = ema.model.eval()
    if out_dir is not None and accelerator.is_main_process:
        meta = dict(metadata or {})
        meta["training"] = {**asdict(config), "history": history, "num_processes": accelerator.num_processes}
        if save_final is not None:
            save_final(final, Path(out_dir), meta)
        else:
            save_pretrained(final, out_dir, metadata=meta, dtype=save_dtype)
    return TrainResult(model=final, history=history)
