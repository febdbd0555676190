"""Maze tab latency on this machine: heatmap for a new goal end to end through the API, the reward
evaluation alone, and trajectory sampling per sampler.

    python benchmarks/bench_maze.py [--mazes umaze medium large] [--calls 20]

Starts the app in-process on a free port and calls it with gradio_client, each call with a goal and t
not seen before (no cache hit). Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mazes", nargs="+", default=["umaze", "medium", "large"])
    parser.add_argument("--calls", type=int, default=20, help="heatmap calls per maze and view")
    parser.add_argument("--trajectories", type=int, default=4, help="trajectories per sampling call")
    args = parser.parse_args()

    import numpy as np
    import torch
    from gradio_client import Client

    from reward_demo.maze.inference import reward_heatmap, sample_trajectories
    from reward_demo.maze.layouts import get_layout
    from reward_demo.maze.models import load_maze_models
    from reward_demo.ui.app import build_app, launch
    from reward_demo.ui.maze_tab import VIEWS

    demo = build_app()  # also pins torch to the app's thread count
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    print(f"torch threads: {torch.get_num_threads()}, CPUs: {os.cpu_count()}")
    print("| maze | view | API end to end, median ms | p90 ms | reward evaluation alone, median ms |")
    print("|---|---|---|---|---|")
    for maze in args.mazes:
        layout = get_layout(maze)
        models = load_maze_models(maze)
        cells = layout.free_cells()
        for view in VIEWS:
            total, compute = [], []
            for k in range(args.calls):
                row, col = cells[k % len(cells)]
                t = k % models.n_reward_timesteps  # a new (goal, t) pair every call: no cache hit
                start = time.perf_counter()
                _, summary, _ = client.predict(maze, row, col, t, view, api_name="/maze_heatmap")
                total.append(1000 * (time.perf_counter() - start))
                compute.append(1000 * summary["compute_seconds"])
            print(f"| {maze} | {view} | {statistics.median(total):.0f} | {np.percentile(total, 90):.0f} | "
                  f"{statistics.median(compute):.0f} |", flush=True)
    print()
    print(f"| maze | direct reward_heatmap (10x10 per cell), median ms | base | expert | steered (n={args.trajectories}), median ms |")
    print("|---|---|---|---|---|")
    for maze in args.mazes:
        models = load_maze_models(maze)
        row, col = get_layout(maze).free_cells()[0]
        heat = []
        for k in range(10):
            start = time.perf_counter()
            reward_heatmap(models, row, col, k % models.n_reward_timesteps)
            heat.append(1000 * (time.perf_counter() - start))
        times = {}
        for sampler in ("base", "expert", "steered"):
            runs = []
            for seed in range(3):
                start = time.perf_counter()
                sample_trajectories(models, sampler, row, col, n=args.trajectories, scale=50.0, seed=seed)
                runs.append(1000 * (time.perf_counter() - start))
            times[sampler] = statistics.median(runs)
        print(f"| {maze} | {statistics.median(heat):.0f} | {times['base']:.0f} | {times['expert']:.0f} | "
              f"{times['steered']:.0f} |", flush=True)
    demo.close()


if __name__ == "__main__":
    main()
