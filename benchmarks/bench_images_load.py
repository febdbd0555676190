"""Images tab under load: N visitors press "Score prompts" at once, one or two prompts each.

    python benchmarks/bench_images_load.py [--clients 4 8 16] [--steps 20] [--repeats 1]

Runs the tab's own handler (``ImagesHandlers.score``, the ``images_score`` endpoint's function) in-process, from N
threads started together, on the shipped embedded model and reward, twice per N: with the scoring queue running
each request alone (``batching=False``, what the app did before: one request at a time), and batching the
requests that wait together (``images.batching``). Each request has its own seed; request k scores
``PROMPTS[k % 16]`` (and the next prompt too when k is odd). Prints a markdown table: wall time of the N
requests, per-request latency (p50, p95, max) and the speed-up of batching.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from benchmarks.bench_images import PROMPTS  # noqa: E402


def request_prompts(k: int) -> str:
    count = 1 + k % 2
    return "\n".join(PROMPTS[(k + j) % len(PROMPTS)] for j in range(count))


def run_clients(handlers, n_clients: int, steps: int, batching: bool) -> dict:
    handlers.service.queue.batching = batching
    threshold = handlers.service.default_threshold()
    latencies, errors = [None] * n_clients, []
    barrier = threading.Barrier(n_clients)

    def client(k: int):
        barrier.wait()
        start = time.perf_counter()
        try:
            handlers.score(request_prompts(k), None, k, steps, "max", threshold, progress=lambda *a, **kw: None)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        latencies[k] = time.perf_counter() - start

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed: {errors[:3]}")
    ordered = sorted(latencies)
    return {"wall": wall, "p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1,
                                                                              round(0.95 * (len(ordered) - 1)))],
            "max": ordered[-1], "prompts": sum(1 + k % 2 for k in range(n_clients))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--steps", type=int, default=20, help="denoising steps per request (the tab's default is 50)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per row; the one with the median wall time is shown"
    )
    args = parser.parse_args()

    import torch

    from reward_demo.services import build_services
    from reward_demo.ui.app import configure_torch
    from reward_demo.ui.images_tab import ImagesHandlers

    configure_torch()  # what the app does: one torch thread per request
    handlers = ImagesHandlers(build_services().images)  # the app's service
    handlers.service.load_models()
    run_clients(handlers, 1, 2, True)  # warm-up
    print(
        f"Images tab under load: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}, {args.steps} denoising steps, 1-2 prompts per request\n"
    )
    print("| clients (prompts) | mode | wall s | per request p50 s | p95 s | max s | wall: one-at-a-time / batched |")
    print("|---|---|---|---|---|---|---|")
    for n in args.clients:
        rows = {}
        for batching in (False, True):
            runs = sorted((run_clients(handlers, n, args.steps, batching) for _ in range(args.repeats)),
                          key=lambda r: r["wall"])
            rows[batching] = runs[len(runs) // 2]
        for batching in (False, True):
            r = rows[batching]
            ratio = f"{rows[False]['wall'] / rows[True]['wall']:.2f}x" if batching else ""
            mode = "batched (scoring queue)" if batching else "one request at a time"
            print(
                f"| {n} ({r['prompts']}) | {mode} | {r['wall']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                f"{r['max']:.1f} | {ratio} |"
            )


if __name__ == "__main__":
    main()
