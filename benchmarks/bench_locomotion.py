"""Locomotion planner latency on this machine: one plan (T reverse steps, start state inpainted) at batch 1 and
16, unsteered base vs reward-steered base (each reward's default guidance, scale, t_stopgrad and t_startgrad, and
the reward's gradient at every step, the most expensive), with eager networks and with recorded graphs replayed
(``networks.Network.replay``, what the app and the evaluation run), and env steps per second of a full steered
episode at batch 1.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_locomotion [--envs ENV ...] [--rewards paper onpolicy] [--plans 30]

Prints a markdown table (median of ``--plans`` plans after 3 warm-up plans, the settings of a row timed
round-robin). Pins torch to one thread, as the
app and the evaluation run.

Run from the repository root: ``python -m`` puts it on the import path, so nothing needs installing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time


def plan_ms(settings, plans: int) -> list:
    """Median milliseconds of one plan for each (models, batch, scale, t_stopgrad, t_startgrad) of ``settings``,
    timed round-robin (one plan of each setting in turn, ``plans`` rounds after 3 warm-up rounds), so that the
    machine's slow and fast moments fall on every setting alike and the cells of one row compare."""
    import torch

    from reward_demo.locomotion.inference import plan

    runs = []
    for models, batch, scale, t_stopgrad, t_startgrad in settings:
        obs, generator = torch.randn(batch, models.obs_dim), torch.Generator().manual_seed(0)
        runs.append(lambda m=models, o=obs, s=scale, k=t_stopgrad, b=t_startgrad, g=generator:
                    plan(m, o, s, k, generator=g, guidance=m.guidance, t_startgrad=b))
    times = [[] for _ in runs]
    for round_ in range(plans + 3):
        for run, spent in zip(runs, times):
            start = time.perf_counter()
            run()
            if round_ >= 3:
                spent.append(1000 * (time.perf_counter() - start))
    return [statistics.median(spent) for spent in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=["hopper", "halfcheetah", "walker2d"])
    parser.add_argument("--plans", type=int, default=30, help="timed plans per setting")
    parser.add_argument("--episode-steps", type=int, default=1000, help="cap of the timed steered episode")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rewards", nargs="+", default=["paper", "onpolicy"],
                        help="rewards to time, each with its default steering (an env without one is skipped)")
    args = parser.parse_args()

    import torch

    from reward_demo.locomotion.inference import run_episodes
    from reward_demo.locomotion.models import load_locomotion_models

    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}, CPUs: {os.cpu_count()}")
    print("| env | reward | horizon | default guidance, scale / t_stopgrad / t_startgrad | batch 1, eager: base | "
          "steered | batch 1, replayed: base | steered | steered (every step) | batch 16, replayed: base | steered | "
          "steered episode: steps | env steps/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for env, reward in [(env, reward) for env in args.envs for reward in args.rewards]:
        try:
            eager = load_locomotion_models(env, device="cpu", reward=reward, replay=False)
            models = load_locomotion_models(env, device="cpu", reward=reward)
        except FileNotFoundError as error:
            print(f"| {env} | {reward} | missing: {str(error).splitlines()[0]} |")
            continue
        scale, stop, begin = models.defaults["scale"], models.defaults["t_stopgrad"], models.t_startgrad
        cells = plan_ms([(eager, 1, 0.0, 0, None), (eager, 1, scale, stop, begin), (models, 1, 0.0, 0, None),
                         (models, 1, scale, stop, begin), (models, 1, scale, 0, None), (models, 16, 0.0, 0, None),
                         (models, 16, scale, stop, begin)], args.plans)
        episode = run_episodes(models, [100_000], scale, stop, max_steps=args.episode_steps, t_startgrad=begin)
        steps = int(episode.lengths[0])
        window = models.n_timesteps if begin is None else begin
        print(f"| {env} | {reward} | {models.horizon} | {models.guidance}, {scale:g} / {stop} / {window} | "
              + " | ".join(f"{c:.1f}" for c in cells) +
              f" | {steps} | {steps / episode.seconds:.1f} |", flush=True)

if __name__ == "__main__":
    main()
