"""Experiment (not yet part of the package): fine-tune a shipped locomotion reward by gradient matching on
states visited by the steered base planner's own reverse chains in closed loop (Algorithm 2's states, in
DAgger-style rounds), mixed 50/50 with the offline base/expert windows of Algorithm 1.

Each round: run the base planner steered with the current reward (mean guidance, t_stopgrad 0, scale 1.0 and
0.5 on alternate episodes; training reset seeds 301000+), keep a quarter of the reverse-chain states x_t,
fine-tune the reward 3000 steps on the union of all rounds' states, then score it on validation reset seeds
200000-200009. States are recorded through ``planner.mean_guided_sample``'s ``on_state`` hook.

    PYTHONPATH=. OMP_NUM_THREADS=1 python experiments/locomotion_onpolicy_reward.py --env hopper --rounds 4
    # ~75 min per env on one core; writes runs/onpolicy/ENV/{log.json,reward_rK.safetensors}
"""
import argparse
import copy
import functools
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch

from reward_demo.locomotion import planner as P
from reward_demo.locomotion.experts import load_locomotion_dataset
from reward_demo.relative_reward import train_relative_reward
from reward_demo.training import TrainConfig
from safetensors.torch import save_file

REC = {"on": False, "x": [], "t": [], "keep": 0.25, "rng": np.random.default_rng(0)}


def record_state(x, t):
    if REC["on"]:
        keep = torch.from_numpy(REC["rng"].random(x.shape[0]) < REC["keep"])
        if keep.any():
            REC["x"].append(x[keep].clone())
            REC["t"].append(t[keep].clone())


# plan() looks the sampler up in the planner module, so the hooked one is used by every rollout below
P.mean_guided_sample = functools.partial(P.mean_guided_sample, on_state=record_state)


class MixedSource:
    def __init__(self, base_w, expert_w, schedule, obs_dim, states, ts, frac):
        self.offline = P.BalancedWindowSource(base_w, expert_w, schedule, obs_dim)
        self.states, self.ts, self.frac = states, ts, frac

    def draw(self, n, generator):
        n_on = int(round(n * self.frac)) if len(self.states) else 0
        x_off, t_off, _ = self.offline.draw(n - n_on, generator)
        if n_on == 0:
            return x_off, t_off, None
        idx = torch.randint(0, len(self.states), (n_on,), generator=generator)
        return torch.cat([x_off, self.states[idx]]), torch.cat([t_off, self.ts[idx]]), None


def collect(models, seeds, scales, max_steps, gen_seed):
    REC["on"], REC["x"], REC["t"] = True, [], []
    batch = P.rollout(models, seeds, scales, [0] * len(seeds), max_steps, "base", generator_seed=gen_seed,
                      guidance="mean")
    REC["on"] = False
    x, t = torch.cat(REC["x"]), torch.cat(REC["t"])
    REC["x"], REC["t"] = [], []
    return x, t, batch


def score(models, seeds, scale, k=0, max_steps=1000, gen_seed=0):
    b = P.run_episodes(models, seeds, scale, k, max_steps, "base", generator_seed=gen_seed, guidance="mean")
    return b.scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", default="hopper")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=24)
    ap.add_argument("--collect-steps", type=int, default=300)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--frac", type=float, default=0.5)
    ap.add_argument("--val-episodes", type=int, default=10)
    ap.add_argument("--eval-scales", default="0.5,1.0")
    ap.add_argument("--out", default="runs/onpolicy")
    a = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(a.out) / a.env
    out.mkdir(parents=True, exist_ok=True)
    models = P.load_locomotion_models(a.env)
    args = P.LocoTrainArgs(env=a.env).resolved()
    datasets = {"base": load_locomotion_dataset(a.env, "medium_replay"), "expert": load_locomotion_dataset(a.env, "expert")}
    wins = {}
    for i, (kind, d) in enumerate(datasets.items()):
        tr, va = P.split_episodes(d, args.val_fraction, args.seed + i)
        rows = P.transitions(d)
        wins[(kind, "train")] = P.WindowData.from_episodes(rows, tr, models.horizon, models.normalizer)
        wins[(kind, "val")] = P.WindowData.from_episodes(rows, va, models.horizon, models.normalizer)
    val_seeds = list(range(200000, 200000 + a.val_episodes))
    log = {"args": vars(a), "rounds": []}
    t0 = time.time()
    base_scores = score(models, val_seeds, 0.0)
    log["base_val"] = base_scores.tolist()
    print(f"[{a.env}] base val {base_scores.mean():.1f} +- {base_scores.std(ddof=1)/np.sqrt(len(base_scores)):.1f} ({time.time()-t0:.0f}s)", flush=True)
    scales = [float(s) for s in a.eval_scales.split(",")]
    ev = {s: score(models, val_seeds, s).tolist() for s in scales}
    print(f"[{a.env}] round 0 val " + " ".join(f"s{s}:{np.mean(v):.1f}" for s, v in ev.items()), flush=True)
    log["rounds"].append({"round": 0, "val": ev})
    states_x, states_t, vx, vt = [], [], [], []
    current = models
    for r in range(1, a.rounds + 1):
        seeds = list(range(300000 + 1000 * r, 300000 + 1000 * r + a.episodes))
        coll_scales = [0.5 if i % 2 else 1.0 for i in range(a.episodes)]
        x, t, b = collect(current, seeds, coll_scales, a.collect_steps, gen_seed=r)
        states_x.append(x); states_t.append(t)
        x2, t2, _ = collect(current, [s + 500 for s in seeds[:6]], [1.0] * len(seeds[:6]), a.collect_steps, gen_seed=100 + r)
        vx.append(x2); vt.append(t2)
        print(f"[{a.env}] round {r}: collected {len(x)} states, mean length {b.lengths.mean():.0f}, score {b.scores.mean():.1f} ({time.time()-t0:.0f}s)", flush=True)
        X, T = torch.cat(states_x), torch.cat(states_t)
        source = MixedSource(wins[("base", "train")], wins[("expert", "train")], models.base, models.obs_dim, X, T, a.frac)
        val_source = MixedSource(wins[("base", "val")], wins[("expert", "val")], models.base, models.obs_dim,
                                 torch.cat(vx), torch.cat(vt), a.frac)
        reward = copy.deepcopy(current.reward).float().requires_grad_(True).train()
        config = TrainConfig(steps=a.steps, batch_size=128, lr=a.lr, grad_clip=1.0, seed=r, eval_every=500,
                             save_every=10**9, progress=False, cpu=True)
        res = train_relative_reward(reward, models.base, models.expert, source, val_source, config, None,
                                    buffer_size=8192, refresh_every=100, val_size=2048,
                                    conditions_fn=lambda x_t: P.start_conditions(x_t, models.obs_dim))
        new_reward = res.model.requires_grad_(False)
        current = dataclasses.replace(models, reward=new_reward)
        hist = [(h.get("step"), round(h.get("val_loss", float("nan")), 5)) for h in res.history]
        ev = {s: score(current, val_seeds, s).tolist() for s in scales}
        print(f"[{a.env}] round {r}: val loss {hist} ; val " + " ".join(f"s{s}:{np.mean(v):.1f}" for s, v in ev.items()) + f" ({time.time()-t0:.0f}s)", flush=True)
        log["rounds"].append({"round": r, "val": ev, "history": res.history, "states": len(X)})
        save_file({k: v.contiguous() for k, v in new_reward.state_dict().items()}, str(out / f"reward_r{r}.safetensors"))
        (out / "log.json").write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
