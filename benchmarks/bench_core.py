"""Side-by-side CPU benchmark of the core paths: reference-style per-step loops vs ``reward_demo``.

Run from the repository root (``python -m`` puts it on the import path, so nothing needs installing)::

    python -m benchmarks.bench_core            # full run, a few minutes on a loaded 2-core CPU
    python -m benchmarks.bench_core --quick    # fewer repetitions, about a minute
    python -m benchmarks.bench_core --json runs/bench_core.json

What is measured (same model sizes for both variants; random, untrained weights: cost does not
depend on the weight values):

1. Gradient-matching reward training, steps/s.
   * ``reference``: a re-implementation (written here) of the reference's per-step loop: draw a
     batch of x0, q_sample x_t, base and expert ``p_mean_variance`` under no_grad, grad of r at mu_B
     with create_graph=True, MSE, backward, Adam step; everything per step.
   * ``ours``: the ``train_relative_reward`` path: ``TargetBuffer`` (16384 targets computed in no-grad
     chunks of 4096, refreshed every 150 steps) + ``gradient_matching_loss`` + Adam. Measured as
     components: the per-step update (``buffer.batch`` + loss + backward + Adam) and the fill of one
     4096-sample chunk exactly as ``TargetBuffer.fill`` computes it; the amortised step is
     ``update + (16384 / 4096) * chunk / 150``. (A full 16384 fill at locomotion size costs
     ~30 s on this CPU, so it is not repeated; the buffer the update reads is the measured chunk
     tiled to 16384 rows, so the gather cost is the real one.)
   Neither variant updates an EMA (both would pay the same small cost).
2. Diffusion (denoising) training step + Adam, ``torch.set_num_threads(1)`` vs ``(2)``.
3. Latency of one steered reverse chain (batch 1 and 16): a plain reference-style loop vs
   ``steered_sample``, plus our unguided chain under no_grad vs ``torch.inference_mode``, and a
   breakdown of our guided chain into denoiser forward / reward gradient / the rest.

Timing protocol: variants are interleaved (A B A B ..., order flipped every round), medians are
reported, and every comparison is a ratio of numbers taken in the same run. Everything except the
thread comparison runs with ``torch.set_num_threads(--threads)`` (default 1: on a CPU shared with
other jobs, 2 OpenMP threads can be ~100x slower, see section 2).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from reward_demo.diffusion import GaussianDiffusion, apply_conditioning
from reward_demo.networks import TemporalUnet, UnetEncoderReward, WindowMLPReward
from reward_demo.relative_reward import NoisedDataSource, TargetBuffer, gradient_matching_loss
from reward_demo.steering import RewardGuide, steered_sample


# ---------------------------------------------------------------------------------------------- sizes
@dataclass
class Size:
    name: str
    horizon: int
    transition_dim: int
    dim: int
    dim_mults: tuple
    n_timesteps: int
    expert_cond_dim: int
    reward_batch: int
    diffusion_batch: int
    steer_scale: float
    t_stopgrad: int
    n_conditioned: int  # features of x[:, 0] fixed by inpainting during sampling (start state); 0 = none

    def base(self) -> GaussianDiffusion:
        net = TemporalUnet(self.horizon, self.transition_dim, self.dim, self.dim_mults)
        return GaussianDiffusion(net, (self.horizon, self.transition_dim), self.n_timesteps)

    def expert(self) -> GaussianDiffusion:
        net = TemporalUnet(self.horizon, self.transition_dim, self.dim, self.dim_mults, cond_dim=self.expert_cond_dim)
        return GaussianDiffusion(net, (self.horizon, self.transition_dim), self.n_timesteps)

    def reward(self) -> nn.Module:
        if self.name == "locomotion":
            return UnetEncoderReward(self.horizon, self.transition_dim, self.dim, self.dim_mults)
        return WindowMLPReward(self.horizon, self.transition_dim, window=1, input_columns=[0, 1],
                               cond_dim=self.expert_cond_dim)

    def cond(self, n: int, generator=None) -> Optional[torch.Tensor]:
        return torch.randn(n, self.expert_cond_dim, generator=generator) if self.expert_cond_dim else None


SIZES = [
    # Hopper-like: 11 observations + 3 actions; reference steering setting 0.5 / t_stopgrad 5 (HalfCheetah, Walker2d)
    Size("locomotion", 32, 14, 32, (1, 2, 4, 8), 20, 0, reward_batch=128, diffusion_batch=32,
         steer_scale=0.5, t_stopgrad=5, n_conditioned=11),
    # our maze CLI: horizon 32, dim 16, T 50, goal-conditioned expert, per-state reward on (x, y)
    Size("maze", 32, 4, 16, (1, 2, 4), 50, 2, reward_batch=256, diffusion_batch=128,
         steer_scale=0.1, t_stopgrad=0, n_conditioned=0),
]

BUFFER_SIZE = 16384
CHUNK = 4096
REFRESH_EVERY = 150


@dataclass
class Plan:
    quick: bool
    train_rounds: int       # rounds of (chunk fill, k ref steps, k our updates)
    train_pairs: int        # ref/ours step pairs per round
    diffusion_reps: int     # 1-thread diffusion steps
    thread2_budget_s: float  # wall budget for 2-thread diffusion steps (each can take >10 s under load)
    chain_reps: int


def make_plan(quick: bool) -> Plan:
    if quick:
        return Plan(True, train_rounds=1, train_pairs=4, diffusion_reps=5, thread2_budget_s=0.0, chain_reps=3)
    return Plan(False, train_rounds=3, train_pairs=4, diffusion_reps=9, thread2_budget_s=40.0, chain_reps=5)


# ---------------------------------------------------------------------------------------------- timing
def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleave(variants: Dict[str, Callable[[], object]], reps: int, out: Optional[Dict[str, List[float]]] = None,
               round_index: int = 0) -> Dict[str, List[float]]:
    """Run every variant ``reps`` times, A B A B ..., reversing the order every other repetition."""
    out = out if out is not None else {k: [] for k in variants}
    names = list(variants)
    for r in range(reps):
        order = names if (r + round_index) % 2 == 0 else names[::-1]
        for name in order:
            out.setdefault(name, []).append(timed(variants[name]))
    return out


def med(xs: List[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def ms(x: float) -> str:
    if x != x:
        return "n/a"
    return f"{x * 1e3:.0f}" if x >= 0.1 else f"{x * 1e3:.1f}"


# ---------------------------------------------------------------------------------------------- 1. reward training
def reference_reward_step(size: Size, base, expert, reward, opt, data, data_cond, generator, split: dict):
    """The reference's per-step loop, batch by batch (timers split target computation from the update)."""
    t0 = time.perf_counter()
    n = size.reward_batch
    index = torch.randint(0, data.shape[0], (n,), generator=generator)
    x0 = data[index]
    cond = None if data_cond is None else data_cond[index]
    t = torch.randint(0, size.n_timesteps, (n,), generator=generator)
    x_t = base.q_sample(x0, t, torch.randn(x0.shape, generator=generator))
    with torch.no_grad():
        mu_b = base.p_mean_variance(x_t, t)[0]
        mu_e = expert.p_mean_variance(x_t, t, cond)[0]
    t1 = time.perf_counter()
    x = mu_b.detach().requires_grad_(True)
    r = reward(x, t, cond)
    (g,) = torch.autograd.grad(r.sum(), x, create_graph=True)
    loss = F.mse_loss(g, mu_e - mu_b)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    t2 = time.perf_counter()
    split["target"].append(t1 - t0)
    split["update"].append(t2 - t1)


def bench_reward_training(size: Size, plan: Plan) -> dict:
    torch.manual_seed(0)
    base, expert = size.base().eval().requires_grad_(False), size.expert().eval().requires_grad_(False)
    reward_ref = size.reward()
    reward_ours = size.reward()
    reward_ours.load_state_dict(reward_ref.state_dict())
    opt_ref = torch.optim.Adam(reward_ref.parameters(), lr=1e-4)
    opt_ours = torch.optim.Adam(reward_ours.parameters(), lr=1e-4)
    n_data = 20_000
    data = torch.randn(n_data, size.horizon, size.transition_dim)
    data_cond = size.cond(n_data)
    gen_ref, gen_ours = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)

    source = NoisedDataSource(data, data_cond, base)
    chunk_buffer = TargetBuffer(source, base, expert, CHUNK, chunk=CHUNK)  # one chunk of the real fill
    warm_buffer = TargetBuffer(source, base, expert, 256, chunk=256)
    train_buffer = TargetBuffer(source, base, expert, BUFFER_SIZE, chunk=CHUNK)
    split = {"target": [], "update": []}

    def ref_step():
        reference_reward_step(size, base, expert, reward_ref, opt_ref, data, data_cond, gen_ref, split)

    def our_update():
        batch = train_buffer.batch(size.reward_batch, gen_ours)
        loss = gradient_matching_loss(reward_ours, batch["mu_base"], batch["target"], batch["t"], batch["cond"])
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()

    def fill_chunk():
        chunk_buffer.fill(gen_ours)

    # warm-up (allocator, first-call overheads); the real buffer is the first chunk tiled to 16384 rows
    warm_buffer.fill(gen_ours)
    fills = [timed(fill_chunk)]
    reps = BUFFER_SIZE // CHUNK
    train_buffer.mu_base = chunk_buffer.mu_base.repeat(reps, 1, 1)
    train_buffer.target = chunk_buffer.target.repeat(reps, 1, 1)
    train_buffer.t = chunk_buffer.t.repeat(reps)
    train_buffer.cond = None if chunk_buffer.cond is None else chunk_buffer.cond.repeat(reps, 1)
    ref_step()
    our_update()
    split["target"].clear(), split["update"].clear()
    steps: Dict[str, List[float]] = {"reference step": [], "ours update": []}
    for rnd in range(plan.train_rounds):  # each round: one chunk fill, then ref/ours steps interleaved
        if rnd > 0:
            fills.append(timed(fill_chunk))
        interleave({"reference step": ref_step, "ours update": our_update}, plan.train_pairs, steps, rnd)

    ref = med(steps["reference step"])
    upd = med(steps["ours update"])
    chunk = med(fills)
    ours_target = chunk * (BUFFER_SIZE / CHUNK) / REFRESH_EVERY
    ours = upd + ours_target
    return {
        "size": size.name, "batch": size.reward_batch,
        "reference_step_s": ref, "reference_target_s": med(split["target"]), "reference_update_s": med(split["update"]),
        "ours_update_s": upd, "ours_chunk_fill_s": chunk, "ours_target_amortised_s": ours_target, "ours_step_s": ours,
        "reference_steps_per_s": 1 / ref, "ours_steps_per_s": 1 / ours, "speedup": ref / ours,
        "reference_target_us_per_sample": med(split["target"]) / size.reward_batch * 1e6,
        "ours_target_us_per_sample": chunk / CHUNK * 1e6,
        "reference_targets_per_step": size.reward_batch, "ours_targets_per_step": BUFFER_SIZE / REFRESH_EVERY,
        "n": {"reference": len(steps["reference step"]), "ours": len(steps["ours update"]), "chunk_fills": len(fills)},
    }


# ---------------------------------------------------------------------------------------------- 2. diffusion training
def bench_diffusion_training(size: Size, plan: Plan, threads: int) -> dict:
    torch.manual_seed(0)
    diffusion = size.expert()  # the conditional one (maze) is the larger of the two
    opt = torch.optim.Adam(diffusion.parameters(), lr=2e-4)
    x0 = torch.randn(size.diffusion_batch, size.horizon, size.transition_dim)
    cond = size.cond(size.diffusion_batch)

    def step():
        loss = diffusion.loss(x0, cond)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    one = []
    for _ in range(plan.diffusion_reps):
        one.append(timed(step))
    two, other = [], []
    # 1 vs 2 threads, interleaved 1 2 1 2 ...; a 2-thread step can take >10 s on a loaded CPU, hence the budget
    spent = 0.0
    budget = plan.thread2_budget_s / len(SIZES)
    while budget > 0 and (not two or spent + two[-1] <= budget):
        other.append(timed(step))
        torch.set_num_threads(2)
        try:
            dt = timed(step)
        finally:
            torch.set_num_threads(threads)
        two.append(dt)
        spent += dt
    if other:
        one_paired = med(other)
    else:
        one_paired = float("nan")
    return {"size": size.name, "batch": size.diffusion_batch, "step_s": med(one), "steps_per_s": 1 / med(one),
            "threads1_paired_s": one_paired, "threads2_s": med(two) if two else float("nan"),
            "threads2_over_threads1": (med(two) / one_paired) if two else float("nan"),
            "n": {"threads1": len(one), "threads2": len(two)}}


# ---------------------------------------------------------------------------------------------- 3. steered chains
def reference_chain(base: GaussianDiffusion, reward: nn.Module, batch: int, scale: float, t_stopgrad: int,
                    reward_cond, conditions, generator: torch.Generator) -> torch.Tensor:
    """Diffuser-style guided ancestral sampling, written as a plain loop."""
    x = torch.randn((batch, *base.event_shape), generator=generator)
    x = apply_conditioning(x, conditions)
    for i in reversed(range(base.n_timesteps)):
        t = torch.full((batch,), i, dtype=torch.long)
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            r = reward(xg, t, reward_cond)
            (grad,) = torch.autograd.grad(r.sum(), xg)
        if i < t_stopgrad:
            grad = torch.zeros_like(grad)
        x = apply_conditioning(x.detach() + scale * grad, conditions)
        with torch.no_grad():
            mean, _, log_var = base.p_mean_variance(x, t)
            noise = torch.randn(x.shape, generator=generator)
            if i == 0:
                noise = torch.zeros_like(noise)
            x = apply_conditioning(mean + torch.exp(0.5 * log_var) * noise, conditions)
    return x


class TimedModule(nn.Module):
    """Wraps a module and accumulates the wall time of its forward calls."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner, self.seconds = inner, 0.0

    def forward(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = self.inner(*args, **kwargs)
        self.seconds += time.perf_counter() - t0
        return out


def bench_chain(size: Size, batch: int, plan: Plan) -> dict:
    torch.manual_seed(0)
    base = size.base().eval().requires_grad_(False)
    reward = size.reward().eval().requires_grad_(False)
    g = torch.Generator().manual_seed(3)
    reward_cond = size.cond(batch, g)
    conditions = {0: torch.randn(batch, size.n_conditioned, generator=g)} if size.n_conditioned else None
    gens = {k: torch.Generator().manual_seed(4) for k in ("ref", "ours", "plain", "inf")}

    # our guided chain with per-component timers: same calls as steered_sample (RewardGuide + base.sample)
    timed_net = TimedModule(base.model)
    timed_base = GaussianDiffusion(timed_net, base.event_shape, base.n_timesteps).eval().requires_grad_(False)
    guide = RewardGuide(reward, size.steer_scale, 1, size.t_stopgrad, reward_cond)
    guide_seconds = [0.0]
    ascend = guide.ascend

    def timed_ascend(x, t):
        t0 = time.perf_counter()
        out = ascend(x, t)
        guide_seconds[0] += time.perf_counter() - t0
        return out

    guide.ascend = timed_ascend

    breakdown = []

    def ours_instrumented():
        timed_net.seconds, guide_seconds[0] = 0.0, 0.0
        t0 = time.perf_counter()
        timed_base.sample(batch, conditions=conditions, generator=gens["ours"], step=guide)
        total = time.perf_counter() - t0
        breakdown.append((total, timed_net.seconds, guide_seconds[0]))

    variants = {
        "reference": lambda: reference_chain(base, reward, batch, size.steer_scale, size.t_stopgrad, reward_cond,
                                             conditions, gens["ref"]),
        "ours": lambda: steered_sample(base, reward, batch, size.steer_scale, size.t_stopgrad, reward_cond=reward_cond,
                                       conditions=conditions, generator=gens["ours"]),
        "ours unguided": lambda: base.sample(batch, conditions=conditions, generator=gens["plain"]),
        "ours unguided inference_mode": lambda: _inference(base, batch, conditions, gens["inf"]),
    }
    for fn in variants.values():
        fn()
    ours_instrumented()
    breakdown.clear()
    res = interleave(variants, plan.chain_reps)
    for _ in range(plan.chain_reps):
        ours_instrumented()
    total = med([b[0] for b in breakdown])
    den = med([b[1] for b in breakdown])
    rew = med([b[2] for b in breakdown])
    out = {"size": size.name, "batch": batch, "T": size.n_timesteps,
           **{f"{k}_s".replace(" ", "_"): med(v) for k, v in res.items()},
           "breakdown_total_s": total, "breakdown_denoiser_s": den, "breakdown_reward_grad_s": rew,
           "breakdown_other_s": max(total - den - rew, 0.0)}
    out["speedup"] = out["reference_s"] / out["ours_s"]
    out["inference_mode_speedup"] = out["ours_unguided_s"] / out["ours_unguided_inference_mode_s"]
    return out


def _inference(base, batch, conditions, generator):
    with torch.inference_mode():
        return base.sample(batch, conditions=conditions, generator=generator)


# ---------------------------------------------------------------------------------------------- profiler (optional)
def profile_ours(size: Size, rows: int = 12) -> str:
    """torch.profiler table of our reward update and one guided chain (self CPU time)."""
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    base = size.base().eval().requires_grad_(False)
    reward = size.reward()
    opt = torch.optim.Adam(reward.parameters(), lr=1e-4)
    n = size.reward_batch
    mu = torch.randn(n, size.horizon, size.transition_dim)
    target = torch.randn_like(mu)
    t = torch.randint(0, size.n_timesteps, (n,))
    cond = size.cond(n)
    text = []
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            loss = gradient_matching_loss(reward, mu, target, t, cond)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    text.append(f"### {size.name}: reward update x3\n```\n"
                + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows) + "\n```")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steered_sample(base, reward.eval(), 16, size.steer_scale, size.t_stopgrad, reward_cond=size.cond(16))
    text.append(f"### {size.name}: guided chain, batch 16\n```\n"
                + prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows) + "\n```")
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------- report
def table(rows: List[List[str]], header: List[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def report(results: dict) -> str:
    out = []
    env = results["env"]
    out.append(f"torch {env['torch']}, {env['cpus']} CPUs, threads={env['threads']}, "
               f"load average at start {env['loadavg_start']}, at end {env['loadavg_end']}, "
               f"wall {env['wall_s']:.0f} s, {'quick' if env['quick'] else 'full'} run. Times are medians in ms.")
    out.append("\n**1. Gradient-matching reward training** (reference = per-step targets; ours = TargetBuffer "
               f"{BUFFER_SIZE} / chunk {CHUNK} / refresh {REFRESH_EVERY}, amortised)\n")
    rows = []
    for r in results["reward_training"]:  # noqa: B007 (sections left out by --only print empty tables)
        rows.append([r["size"], str(r["batch"]),
                     f"{ms(r['reference_step_s'])} ({ms(r['reference_target_s'])} + {ms(r['reference_update_s'])})",
                     f"{ms(r['ours_step_s'])} ({ms(r['ours_target_amortised_s'])} + {ms(r['ours_update_s'])})",
                     f"{r['reference_steps_per_s']:.2f}", f"{r['ours_steps_per_s']:.2f}", f"**{r['speedup']:.2f}x**",
                     f"{r['reference_targets_per_step']} / {r['ours_targets_per_step']:.0f}",
                     f"{r['reference_target_us_per_sample']:.0f} / {r['ours_target_us_per_sample']:.0f}",
                     f"{r['reference_update_s'] / r['ours_update_s']:.2f}"])
    out.append(table(rows, ["size", "batch", "ref step ms (targets + update)",
                            "ours step ms (targets amortised + update)",
                            "ref steps/s", "ours steps/s", "ours/ref speed", "target samples per step ref / ours",
                            "target us/sample ref / ours", "update ref/ours (same work; noise check)"]))
    out.append("\n**2. Diffusion training step** (denoising loss + backward + Adam; ours only)\n")
    rows = []
    for r in results["diffusion_training"]:
        rows.append([r["size"], str(r["batch"]), ms(r["step_s"]), f"{r['steps_per_s']:.1f}",
                     ms(r["threads1_paired_s"]), ms(r["threads2_s"]),
                     "n/a" if math.isnan(r["threads2_over_threads1"]) else f"{r['threads2_over_threads1']:.1f}x slower"
                     if r["threads2_over_threads1"] > 1 else f"{1 / r['threads2_over_threads1']:.2f}x faster"])
    out.append(table(rows, ["size", "batch", f"step ms ({env['threads']} thr)", "steps/s", "1-thr paired ms",
                            "2-thr ms", "2 threads vs 1"]))
    out.append("\n**3. Steered reverse chain latency** (one full chain; breakdown of ours: denoiser forward / "
               "reward gradient / rest)\n")
    rows = []
    for r in results["chains"]:
        rows.append([r["size"], str(r["T"]), str(r["batch"]), ms(r["reference_s"]), ms(r["ours_s"]),
                     f"**{r['speedup']:.2f}x**", ms(r["ours_unguided_s"]), ms(r["ours_unguided_inference_mode_s"]),
                     f"{r['inference_mode_speedup']:.2f}x",
                     f"{ms(r['breakdown_denoiser_s'])} / {ms(r['breakdown_reward_grad_s'])} / "
                     f"{ms(r['breakdown_other_s'])} (of {ms(r['breakdown_total_s'])}; "
                     f"{r['breakdown_reward_grad_s'] / r['breakdown_total_s']:.0%} reward grad)"])
    out.append(table(rows, ["size", "T", "batch", "ref guided ms", "ours guided ms", "ours/ref speed",
                            "ours unguided ms (no_grad)", "unguided inference_mode ms", "inference_mode gain",
                            "ours guided, instrumented runs: denoiser / reward grad / rest ms"]))
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions (~1 minute)")
    p.add_argument("--json", type=Path, default=None, help="write all numbers to this JSON file")
    p.add_argument("--threads", type=int, default=1, help="torch threads for everything but the 1-vs-2 comparison")
    p.add_argument("--only", default="train,diffusion,chain", help="comma list of sections: train,diffusion,chain")
    p.add_argument("--profile", action="store_true", help="also print torch.profiler tables of our paths")
    args = p.parse_args(argv)
    plan = make_plan(args.quick)
    torch.set_num_threads(args.threads)
    sections = set(args.only.split(","))
    began = time.time()
    results = {"env": {"torch": torch.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
                       "threads": args.threads, "quick": args.quick, "loadavg_start": _load()},
               "plan": asdict(plan), "reward_training": [], "diffusion_training": [], "chains": []}
    for size in SIZES:
        if "train" in sections:
            results["reward_training"].append(bench_reward_training(size, plan))
            print(f"[reward training {size.name}] done at {time.time() - began:.0f} s", file=sys.stderr, flush=True)
    for size in SIZES:
        if "diffusion" in sections:
            results["diffusion_training"].append(bench_diffusion_training(size, plan, args.threads))
            print(f"[diffusion training {size.name}] done at {time.time() - began:.0f} s", file=sys.stderr, flush=True)
    for size in SIZES:
        for batch in (1, 16):
            if "chain" in sections:
                results["chains"].append(bench_chain(size, batch, plan))
                print(f"[chain {size.name} b{batch}] done at {time.time() - began:.0f} s", file=sys.stderr, flush=True)
    results["env"]["loadavg_end"] = _load()
    results["env"]["wall_s"] = time.time() - began
    text = report(results) if any(results[k] for k in ("reward_training", "diffusion_training", "chains")) else ""
    if text:
        print(text)
    if args.profile:
        for size in SIZES:
            print(profile_ours(size))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    return results


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


if __name__ == "__main__":
    main()
