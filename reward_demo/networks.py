"""All networks in one file: denoisers (TemporalUnet, MLPDenoiser) and reward models
(WindowMLPReward, UnetEncoderReward).

Every network is called as ``net(x, t, cond)``: ``x`` of shape ``(batch, horizon, features)`` (or
``(batch, features)`` for the MLPs), ``t`` integer diffusion steps ``(batch,)``, ``cond`` an optional
``(batch, cond_dim)`` conditioning vector (e.g. a goal). Denoisers return a tensor shaped like ``x``;
rewards return ``(batch,)``. Constructor arguments are plain numbers: ``checkpoint.register`` records them as
the JSON config the network is rebuilt from. Each can also replay recorded graphs of its calls (``Network.replay``).
"""
from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .checkpoint import register


class Network(nn.Module):
    """Base of the networks called as ``net(x, t, cond)``; ``replay()`` makes them run as recorded graphs.

    A plan calls a small network dozens of times at one input shape, and at batch 1 on a CPU most of each call
    is the Python cost of about a hundred module calls, not arithmetic. After ``replay()``, the first call at an
    input shape records the call's ops (a TorchScript trace, which records the tensor ops without the Python
    around them, inlined into one graph) and later calls at that shape replay them, unoptimised: the same ops in
    the same order, each differentiated by autograd, so outputs and gradients are bitwise those of the eager
    network. Graphs are per shape because the networks' only Python branches are on shapes. Replay is off in
    training mode, and the recorded graphs are dropped whenever they could go stale: a change of mode, device or
    dtype, loaded weights, a copy, the Mish swap.
    """

    #: recorded graphs kept per network (least recently recorded dropped first)
    max_graphs = 32
    _graphs: Optional[OrderedDict] = None

    def replay(self, enabled: bool = True) -> "Network":
        """Run later eval-mode calls as recorded graphs (``enabled``), or eagerly again."""
        self._graphs = OrderedDict() if enabled else None
        return self

    def __call__(self, x: torch.Tensor, t: torch.Tensor, cond: Optional[torch.Tensor] = None):
        if self._graphs is None or self.training or torch.jit.is_tracing():
            return super().__call__(x, t, cond)
        inputs = (x, t) if cond is None else (x, t, cond)
        key = tuple((v.shape, v.dtype, v.device) for v in inputs)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._record(inputs)
            if graph is None:
                return super().__call__(x, t, cond)
            self._graphs[key] = graph
            while len(self._graphs) > self.max_graphs:
                self._graphs.popitem(last=False)
        # the optimising executor would differentiate some ops by its own formulas (StableMish's, for one), no
        # longer bitwise autograd's; the flag is per thread
        with torch.jit.optimized_execution(False):
            return graph(*inputs)

    def _record(self, inputs):
        try:
            with warnings.catch_warnings():
                # trace is marked deprecated for export, not for replay; shape-dependent constants (e.g.
                # GroupNorm's batch-size check) are what the per-shape keys are for
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                graph = torch.jit.trace(self, inputs, check_trace=False)  # shares this network's parameters
            # one flat graph: the interpreter then skips a method call per submodule (about 9 % of a steered
            # plan at batch 1); the ops, and so the outputs and gradients, stay the same
            torch._C._jit_pass_inline(graph.graph)
            return graph
        except Exception as error:  # a torch without TorchScript: stay eager, correctly
            warnings.warn(f"{type(self).__name__}: graph replay unavailable ({error}); running eagerly")
            self._graphs = None
            return None

    def _forget_graphs(self):
        if self._graphs:
            self._graphs.clear()

    def train(self, mode: bool = True):
        if mode != self.training:  # an .eval() on every request must not drop the graphs each time
            self._forget_graphs()
        return super().train(mode)

    def _apply(self, fn, *args, **kwargs):
        self._forget_graphs()
        return super()._apply(fn, *args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        self._forget_graphs()
        return super().load_state_dict(*args, **kwargs)

    def __getstate__(self):
        state = super().__getstate__().copy()
        if state.get("_graphs") is not None:
            state["_graphs"] = OrderedDict()  # a copy records its own graphs, over its own weights
        return state


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device) * (-math.log(10000) / (half - 1)))
        args = t.float()[:, None] * freqs[None, :]
        return torch.cat((args.sin(), args.cos()), dim=-1)


def time_embedding(dim: int) -> nn.Module:
    return nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, dim * 4), nn.Mish(), nn.Linear(dim * 4, dim))


class Conv1dBlock(nn.Module):
    """Conv1d -> GroupNorm -> Mish."""

    def __init__(self, inp: int, out: int, kernel_size: int, n_groups: int = 8):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv1d(inp, out, kernel_size, padding=kernel_size // 2), nn.GroupNorm(n_groups, out), nn.Mish()
        )

    def forward(self, x):
        return self.block(x)


class ResidualTemporalBlock(nn.Module):
    def __init__(self, inp: int, out: int, embed_dim: int, kernel_size: int = 5):
        super().__init__()
        self.blocks = nn.ModuleList([Conv1dBlock(inp, out, kernel_size), Conv1dBlock(out, out, kernel_size)])
        self.time_mlp = nn.Sequential(nn.Mish(), nn.Linear(embed_dim, out))
        self.residual_conv = nn.Conv1d(inp, out, 1) if inp != out else nn.Identity()

    def forward(self, x, emb):
        out = self.blocks[0](x) + self.time_mlp(emb)[:, :, None]
        out = self.blocks[1](out)
        return out + self.residual_conv(x)


class _Embedding(nn.Module):
    """Time embedding plus an optional conditioning embedding, summed."""

    def __init__(self, dim: int, cond_dim: int):
        super().__init__()
        self.time_mlp = time_embedding(dim)
        self.cond_mlp = (
            nn.Sequential(nn.Linear(cond_dim, dim * 4), nn.Mish(), nn.Linear(dim * 4, dim)) if cond_dim else None
        )

    def forward(self, t, cond):
        emb = self.time_mlp(t)
        if self.cond_mlp is not None:
            if cond is None:
                raise ValueError("this network was built with cond_dim > 0 and needs a `cond` tensor")
            emb = emb + self.cond_mlp(cond)
        return emb


def _unet_dims(transition_dim: int, dim: int, dim_mults: Sequence[int]):
    dims = [transition_dim, *[dim * m for m in dim_mults]]
    return list(zip(dims[:-1], dims[1:]))


@register
class TemporalUnet(Network):
    """Diffuser's 1-D U-Net over the horizon (Janner et al. 2022).

    Args:
        horizon: trajectory length; must be divisible by 2 ** (len(dim_mults) - 1).
        transition_dim: features per step (state [+ action]).
        dim: base channel width.
        dim_mults: channel multipliers per resolution.
        cond_dim: size of an optional conditioning vector (0 = none).
        kernel_size: temporal convolution width.
    """

    def __init__(self, horizon: int, transition_dim: int, dim: int = 32, dim_mults: Sequence[int] = (1, 2, 4, 8),
                 cond_dim: int = 0, kernel_size: int = 5):
        super().__init__()
        factor = 2 ** (len(dim_mults) - 1)
        if horizon % factor:
            raise ValueError(f"horizon={horizon} must be divisible by {factor} for dim_mults={list(dim_mults)}")
        in_out = _unet_dims(transition_dim, dim, dim_mults)
        self.embedding = _Embedding(dim, cond_dim)
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i, (d_in, d_out) in enumerate(in_out):
            last = i == len(in_out) - 1
            self.downs.append(nn.ModuleList([
                ResidualTemporalBlock(d_in, d_out, dim, kernel_size),
                ResidualTemporalBlock(d_out, d_out, dim, kernel_size),
                nn.Conv1d(d_out, d_out, 3, 2, 1) if not last else nn.Identity(),
            ]))
        mid = in_out[-1][1]
        self.mid1 = ResidualTemporalBlock(mid, mid, dim, kernel_size)
        self.mid2 = ResidualTemporalBlock(mid, mid, dim, kernel_size)
        for d_in, d_out in reversed(in_out[1:]):
            self.ups.append(nn.ModuleList([
                ResidualTemporalBlock(d_out * 2, d_in, dim, kernel_size),
                ResidualTemporalBlock(d_in, d_in, dim, kernel_size),
                nn.ConvTranspose1d(d_in, d_in, 4, 2, 1),
            ]))
        self.final_conv = nn.Sequential(Conv1dBlock(dim, dim, kernel_size), nn.Conv1d(dim, transition_dim, 1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x.transpose(1, 2)  # (batch, features, horizon)
        emb = self.embedding(t, cond)
        skips = []
        for block1, block2, down in self.downs:
            x = block2(block1(x, emb), emb)
            skips.append(x)
            x = down(x)
        x = self.mid2(self.mid1(x, emb), emb)
        for block1, block2, up in self.ups:
            x = torch.cat((x, skips.pop()), dim=1)
            x = up(block2(block1(x, emb), emb))
        return self.final_conv(x).transpose(1, 2)


def _mlp(inp: int, hidden: int, n_layers: int, out: int) -> nn.Sequential:
    layers, width = [], inp
    for _ in range(n_layers):
        layers += [nn.Linear(width, hidden), nn.Mish()]
        width = hidden
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers)


@register
class MLPDenoiser(Network):
    """A small MLP denoiser for low-dimensional samples of any event shape (used for point data)."""

    def __init__(self, event_dim: int, hidden: int = 128, n_layers: int = 3, time_dim: int = 32, cond_dim: int = 0):
        super().__init__()
        self.embedding = _Embedding(time_dim, cond_dim)
        self.net = _mlp(event_dim + time_dim, hidden, n_layers, event_dim)

    def forward(self, x, t, cond=None):
        flat = x.reshape(x.shape[0], -1)
        out = self.net(torch.cat([flat, self.embedding(t, cond)], dim=-1))
        return out.reshape(x.shape)


@register(omit_defaults=("t_max",))  # configs of rewards trained on every step stay as they were
class WindowMLPReward(Network):
    """Reward as the mean of an MLP over non-overlapping windows of the trajectory.

    With ``window=1`` this is a per-state reward r(s, t), which is what the maze heatmaps show.

    Args:
        horizon: trajectory length (divisible by ``window``).
        transition_dim: features per step of the input.
        window: steps per window.
        input_columns: which feature columns the reward reads (None = all); e.g. positions only.
        hidden, n_layers: MLP size.
        time_dim: sinusoidal time-embedding size.
        cond_dim: size of an optional conditioning vector (e.g. a goal; 0 = none).
        t_max: a reward trained only on steps t < t_max reads any later step as t_max - 1, the nearest one it
            knows (0 = trained on every step).
    """

    def __init__(self, horizon: int, transition_dim: int, window: int = 1,
                 input_columns: Optional[Sequence[int]] = None, hidden: int = 128, n_layers: int = 3,
                 time_dim: int = 32, cond_dim: int = 0, t_max: int = 0):
        super().__init__()
        if horizon % window:
            raise ValueError(f"horizon={horizon} must be divisible by window={window}")
        columns = list(range(transition_dim)) if input_columns is None else [int(c) for c in input_columns]
        if t_max < 0:
            raise ValueError(f"t_max must be >= 0 (0 = trained on every step), got {t_max}")
        self.window, self.t_max = window, t_max
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.long), persistent=False)
        self.embedding = _Embedding(time_dim, cond_dim)
        self.net = _mlp(window * len(columns) + time_dim, hidden, n_layers, 1)

    def window_rewards(self, x, t, cond=None) -> torch.Tensor:
        """Reward of every window, shape (batch, horizon // window)."""
        if x.dim() == 2:
            x = x[:, None, :]
        x = x.index_select(-1, self.columns)
        if self.t_max:
            t = t.clamp(max=self.t_max - 1)
        batch, horizon, feats = x.shape
        windows = x.reshape(batch, horizon // self.window, self.window * feats)
        # first layer split in two: the embedding's share is computed once per sample, not per window
        # (same weights as Linear(cat([window, emb])))
        first = self.net[0]
        n_in = windows.shape[-1]
        embedding_share = self.embedding(t, cond) @ first.weight[:, n_in:].T + first.bias
        hidden = windows @ first.weight[:, :n_in].T + embedding_share[:, None, :]
        return self.net[1:](hidden).squeeze(-1)

    def forward(self, x, t, cond=None) -> torch.Tensor:
        return self.window_rewards(x, t, cond).mean(dim=1)


@register
class UnetEncoderReward(Network):
    """The down-sampling half of a TemporalUnet with an MLP head to a scalar (Diffuser's ValueFunction)."""

    def __init__(self, horizon: int, transition_dim: int, dim: int = 32, dim_mults: Sequence[int] = (1, 2, 4, 8),
                 cond_dim: int = 0, kernel_size: int = 5):
        super().__init__()
        in_out = _unet_dims(transition_dim, dim, dim_mults)
        self.embedding = _Embedding(dim, cond_dim)
        self.blocks = nn.ModuleList()
        h = horizon
        for d_in, d_out in in_out:
            self.blocks.append(nn.ModuleList([
                ResidualTemporalBlock(d_in, d_out, dim, kernel_size),
                ResidualTemporalBlock(d_out, d_out, dim, kernel_size),
                nn.Conv1d(d_out, d_out, 3, 2, 1),
            ]))
            h = (h + 1) // 2
        mid = in_out[-1][1]
        self.mid = ResidualTemporalBlock(mid, mid // 2, dim, kernel_size)
        fc_dim = (mid // 2) * h
        self.head = nn.Sequential(nn.Linear(fc_dim + dim, fc_dim // 2), nn.Mish(), nn.Linear(fc_dim // 2, 1))

    def forward(self, x, t, cond=None) -> torch.Tensor:
        x = x.transpose(1, 2)
        emb = self.embedding(t, cond)
        for block1, block2, down in self.blocks:
            x = down(block2(block1(x, emb), emb))
        x = self.mid(x, emb).flatten(1)
        return self.head(torch.cat([x, emb], dim=-1)).squeeze(-1)


class StableMish(nn.Module):
    """Mish written as x * tanh(softplus(x)): the same function as ``nn.Mish``, but its *second* derivative stays
    finite. torch's fused Mish backward, differentiated again (gradient matching differentiates grad_x r), overflows
    an exp for pre-activations beyond about +-88 and turns the loss into NaN after a few hundred steps."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x))


def with_stable_mish(module: nn.Module) -> nn.Module:
    """Swap every ``nn.Mish`` inside ``module`` for ``StableMish`` in place (no parameters change, so the saved
    weights load into the plain architecture, whose first-order gradients, all that steering needs, are fine)."""
    if isinstance(module, Network):
        module._forget_graphs()  # they were recorded with the other Mish
    for name, child in module.named_children():
        if isinstance(child, nn.Mish):
            setattr(module, name, StableMish())
        else:
            with_stable_mish(child)
    return module
