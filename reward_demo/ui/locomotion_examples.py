"""The Locomotion tab's precomputed example runs (shown instantly on page load):
``python -m reward_demo.ui.locomotion_examples [--env ENV ...] [--seed S] [--steps N] [--reward paper|onpolicy]``.

For each trained env: the base planner and the base planner steered by ``--reward`` (default: the paper's offline
reward; ``onpolicy``: this project's extension, where the env has one) with that reward's default scale and
t_stopgrad, from the same seed, as the tab runs them, but longer than the tab's interactive cap. Writes
``assets/locomotion/<env>_{base,steered}.mp4`` and ``assets/locomotion/examples.json`` (settings with the reward,
summary, per-step env and learned rewards, distance travelled, the command, the checkpoints' fingerprints); envs
already in the JSON and not named are kept.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional, Sequence

from ..locomotion.demo import (
    DEFAULT_REWARD,
    ENVS,
    TRAIN_COMMAND,
    check_env,
    checkpoint_root,
    get_models,
    guidance_settings,
    has_models,
    render_videos,
    run_pair,
)
from ..locomotion.demo_results import (
    EXAMPLE_SEED,
    EXAMPLE_STEPS,
    EXAMPLES_COMMAND,
    assets_dir,
    examples_json,
    load_examples,
)


def checkpoint_fingerprints(env: str, reward: str = DEFAULT_REWARD) -> dict:
    """{kind: sha256 prefix of model.safetensors} of the reward ``reward`` ("paper" or "onpolicy",
    ``models.REWARDS``), the base planner it steers (``models.steered_base_planner``) and the expert planner:
    tells whether an example was made with the checkpoints now shipped."""
    import hashlib

    from ..locomotion.models import reward_folder, steered_base_planner

    root = checkpoint_root() / env
    reward_name = reward_folder(env, root, reward)
    base_name = steered_base_planner(root, reward_name)
    return {kind: hashlib.sha256((root / folder / "model.safetensors").read_bytes()).hexdigest()[:16]
            for kind, folder in (("base", base_name), ("expert", "expert"), ("reward", reward_name))}


def make_examples(envs: Sequence[str] = ENVS, seed: int = EXAMPLE_SEED, steps: Optional[int] = None,
                  reward: str = DEFAULT_REWARD) -> dict:
    """Run base and steered planner (``reward`` with its default scale / t_stopgrad) for each trained env, write
    the two videos and the curves to assets/locomotion/ (examples.json), and return the JSON."""
    assets = assets_dir()
    assets.mkdir(parents=True, exist_ok=True)
    examples = dict(load_examples())
    for env in envs:
        env = check_env(env)
        if not has_models(env):
            print(f"[{env}] skipped: not trained yet ({TRAIN_COMMAND.format(env=env)})", flush=True)
            continue
        models = get_models(env, reward)
        n = int(steps or EXAMPLE_STEPS[env])
        scale, t_stop = float(models.defaults["scale"]), int(models.defaults["t_stopgrad"])
        start = time.perf_counter()
        last = [0.0]

        def on_step(step, total):
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"[{env}] step {step}/{total}", flush=True)

        episodes = run_pair(models, seed, scale, t_stop, n, on_step)
        planning = time.perf_counter() - start
        paths = render_videos(env, episodes, assets, env)
        settings = {"seed": seed, "scale": scale, "t_stopgrad": t_stop, "steps": n, **guidance_settings(models),
                    "reward": reward}
        command = f"{EXAMPLES_COMMAND} --env {env} --seed {seed} --steps {n} --reward {reward}"
        examples[env] = {"settings": settings, "summary": {p: e.summary() for p, e in episodes.items()},
                         "curves": {p: e.curves() for p, e in episodes.items()},
                         "videos": {p: Path(v).name for p, v in paths.items()},
                         "planning_seconds": round(planning, 1), "command": command,
                         "checkpoints": checkpoint_fingerprints(env, reward)}
        print(f"[{env}] {json.dumps(examples[env]['summary'])} ({planning:.0f} s)", flush=True)
    payload = {"description": "Precomputed Locomotion-tab runs: base and reward-steered base planner, same seed",
               "envs": {e: examples[e] for e in ENVS if e in examples}}
    examples_json().write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    return payload


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Make the Locomotion tab's precomputed example runs "
                                                 "(assets/locomotion/).")
    parser.add_argument("--env", action="append", choices=ENVS, help="env(s) to (re)make (default: all trained)")
    parser.add_argument("--seed", type=int, default=EXAMPLE_SEED)
    parser.add_argument("--steps", type=int, default=None, help="episode length (default: per env, see EXAMPLE_STEPS)")
    parser.add_argument("--reward", choices=("paper", "onpolicy"), default=DEFAULT_REWARD,
                        help="paper: the paper's offline reward (default); onpolicy: the on-policy fine-tuned "
                             "extension (Hopper, Walker2d)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    make_examples(args.env or ENVS, seed=args.seed, steps=args.steps, reward=args.reward)


if __name__ == "__main__":
    _main()
