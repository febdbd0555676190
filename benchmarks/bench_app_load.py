"""Cheap actions while heavy ones run: latency of the app's quick endpoints (a maze heatmap for a new goal,
a locomotion example, an image re-threshold) on an idle server and again while locomotion runs and image
scoring requests are in flight from other clients.

    OMP_NUM_THREADS=1 python -m benchmarks.bench_app_load [--calls 20] [--image-clients 4] [--run-steps 100]

Starts the app in-process on a free port (as ``python app.py`` serves it) and drives it with gradio_client
from threads, one client per simulated visitor. Prints a markdown table; the target is every cheap action
under 2 s at p95 while the heavy work is in flight.

Run from the repository root: ``python -m`` puts it on the import path, so nothing needs installing.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MUJOCO_GL", "egl")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cheap_actions(client, calls: int, offset: int) -> dict:
    """{action: [seconds]} for ``calls`` rounds of every cheap action; new goals and t each round (no cache)."""
    from reward_demo.maze.layouts import get_layout

    free = get_layout("medium").free_cells()
    times = {"maze_heatmap": [], "locomotion_example": [], "images_threshold": []}
    scored = client.predict(-4.0, api_name="/images_example")[-1]
    for i in range(calls):
        row, col = free[(offset + i) % len(free)]
        start = time.perf_counter()
        client.predict("medium", row, col, (offset + 3 * i) % 50, "dense grid", api_name="/maze_heatmap")
        times["maze_heatmap"].append(time.perf_counter() - start)
        start = time.perf_counter()
        client.predict("hopper", api_name="/locomotion_example")
        times["locomotion_example"].append(time.perf_counter() - start)
        start = time.perf_counter()
        client.predict(scored, -4.0 + 0.01 * i, api_name="/images_threshold")
        times["images_threshold"].append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="rounds of cheap actions per phase")
    parser.add_argument("--image-clients", type=int, default=4, help="visitors scoring prompts meanwhile")
    parser.add_argument("--run-steps", type=int, default=100, help="environment steps of each locomotion run")
    args = parser.parse_args()

    from gradio_client import Client

    from reward_demo.ui.app import build_app, launch

    demo = build_app()
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    # a browser fetches an output's files once (their cache URLs are content-hashed); a client that downloads
    # every gallery image again on each call would measure its own downloads, not the app
    client = Client(url, verbose=False, download_files=False)
    cheap_actions(client, 2, 1000)  # warm-up: every model loaded once

    idle = cheap_actions(client, args.calls, 0)

    stop = threading.Event()
    heavy = {"locomotion_run": [], "images_score": []}

    def keep_running(api_name, inputs):
        own = Client(url, verbose=False, download_files=False)
        while not stop.is_set():
            start = time.perf_counter()
            own.predict(*inputs, api_name=api_name)
            heavy[api_name.strip("/")].append(time.perf_counter() - start)

    workers = [threading.Thread(target=keep_running, daemon=True,
                                args=("/locomotion_run", ("hopper", 1.0, 0, 0, args.run_steps)))]
    workers += [threading.Thread(target=keep_running, daemon=True,
                                 args=("/images_score", (f"a red apple on a table\na gun number {k}", None, k, 20,
                                                         "max", -4.0)))
                for k in range(args.image_clients)]
    for worker in workers:
        worker.start()
    time.sleep(5)  # let the heavy work start
    loaded = cheap_actions(client, args.calls, 500)
    stop.set()

    print(f"CPUs: {os.cpu_count()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, {args.calls} calls each; "
          f"in flight meanwhile: 1 locomotion run ({args.run_steps} steps) and {args.image_clients} image clients")
    print("| action | idle p50 s | idle p95 s | loaded p50 s | loaded p95 s | loaded / idle (p50) |")
    print("|---|---|---|---|---|---|")
    for action in idle:
        a, b = idle[action], loaded[action]
        print(f"| {action} | {statistics.median(a):.3f} | {percentile(a, 0.95):.3f} | {statistics.median(b):.3f} | "
              f"{percentile(b, 0.95):.3f} | {statistics.median(b) / statistics.median(a):.1f}x |")
    for action, values in heavy.items():
        if values:
            print(f"| {action} (heavy, finished while measuring: {len(values)}) | | | "
                  f"{statistics.median(values):.1f} | "
                  f"{percentile(values, 0.95):.1f} | |")
    demo.close()


if __name__ == "__main__":
    main()
