"""The locomotion report (``python -m reward_demo locomotion report``): merges the per-env evaluations and
validation sweeps into assets/locomotion_eval.json and its figure.

Per env, from RUNS:
- ``locomotion_eval_ENV.json``: the paper's offline reward (``evaluate --reward paper``), the headline result;
- ``locomotion_eval_ENV_onpolicy.json``: this project's on-policy extension on the same seeds, reported beside it
  (``evaluate --reward onpolicy``), where there is one;
- ``locomotion_sweep_ENV*.json``: the validation sweeps that chose the paper reward's steering (one per guidance);
- ``locomotion_window_ENV.json``: the validation sweep over t_startgrad (``sweep --t-startgrads``) that chose how
  many of the low-noise reverse steps the reward's gradient is taken at (``window_summary``).

The figure shows, per env, each episode's score (base, steered with each reward, expert policy) with means and
95 % intervals, and the validation sweep whose guidance the evaluation used.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from .data import ENVS, env_key

RUNS = Path("runs")
ASSETS = Path("assets")
#: what an evaluation or sweep made before --reward existed says about its reward
UNKNOWN_REWARD = {"name": "unknown", "label": "unknown (run before --reward was recorded)", "folder": None,
                  "kind": None}

#: the target of issue 24: the steered planner's mean gain in D4RL points, with its 95 % CI above 0
TARGET_GAIN = 10.0


def reward_of(result: dict) -> dict:
    """The ``reward`` an evaluation or sweep JSON records ({"name", "folder", "kind", ...}), ``UNKNOWN_REWARD``
    for one made before it was recorded."""
    return dict(result.get("reward") or UNKNOWN_REWARD)


def target_met(result: dict) -> bool:
    """Mean gain >= ``TARGET_GAIN`` points and the 95 % CI of the paired difference above 0."""
    difference = result["difference"]
    return difference["mean"] >= TARGET_GAIN and difference["ci95"][0] > 0


#: a t_startgrad window ships when its validation gain is >= TARGET_GAIN with its CI above 0 and at least this
#: share of the every-step gain on the same seeds (the rule in docs/research-log.md)
WINDOW_GAIN_SHARE = 0.8


def window_summary(sweep: dict, n_boot: int = 10_000) -> dict:
    """Per t_startgrad of a ``sweep --t-startgrads`` run (one scale and t_stopgrad): the mean score, the paired gain
    over the unsteered planner on the same seeds (mean, bootstrap 95 % CI, episodes better), its share of the
    every-step window's gain, and whether the window meets the rule (``WINDOW_GAIN_SHARE``)."""
    from ..metrics import bootstrap_ci

    unsteered = np.asarray(sweep["rows"][0]["scores"])
    n_timesteps = int(sweep["rows"][0]["t_startgrad"])  # the unsteered row carries T, every step
    steered = [r for r in sweep["rows"] if r["scale"] > 0]
    every_step = next((r for r in steered if r["t_startgrad"] == n_timesteps), None)
    full_gain = float(np.mean(np.asarray(every_step["scores"]) - unsteered)) if every_step else float("nan")
    rows = []
    for row in sorted(steered, key=lambda r: -r["t_startgrad"]):
        gain = np.asarray(row["scores"]) - unsteered
        low, high = bootstrap_ci(gain, n_boot, 3)
        share = float(gain.mean()) / full_gain if full_gain > 0 else None  # None: no every-step row to compare
        rows.append({"t_startgrad": row["t_startgrad"], "score_mean": row["score_mean"],
                     "gain": {"mean": float(gain.mean()), "ci95": [low, high], "better": int((gain > 0).sum())},
                     "share_of_every_step_gain": share,
                     "meets_rule": bool(gain.mean() >= TARGET_GAIN and low > 0 and share is not None
                                        and share >= WINDOW_GAIN_SHARE)})
    first = steered[0]
    return {"seeds": [sweep["seeds"][0], sweep["seeds"][-1]], "episodes": len(sweep["seeds"]),
            "max_steps": sweep["max_steps"], "guidance": sweep["guidance"], "reward": reward_of(sweep),
            "scale": first["scale"], "t_stopgrad": first["t_stopgrad"], "n_timesteps": n_timesteps,
            "unsteered_score_mean": float(unsteered.mean()), "rows": rows}


def sweeps_of(runs: Path, env: str) -> List[dict]:
    """The env's validation sweeps in RUNS (``locomotion_sweep_ENV.json`` and ``locomotion_sweep_ENV_*.json``)."""
    runs = Path(runs)
    paths = sorted(runs.glob(f"locomotion_sweep_{env}.json")) + sorted(runs.glob(f"locomotion_sweep_{env}_*.json"))
    return [json.loads(path.read_text()) for path in paths]


def chosen_sweep(sweeps: List[dict], result: dict) -> Optional[dict]:
    """The sweep of the guidance the evaluation used (None when there is none)."""
    guidance = result.get("guidance", "input")
    return next((sw for sw in sweeps if sw.get("guidance", "input") == guidance), None)


def plot_evaluations(results: Dict[str, dict], path: Path, sweeps: Optional[Dict[str, List[dict]]] = None,
                     extension: Optional[Dict[str, dict]] = None) -> None:
    """Per env: normalised scores of each episode (base, steered, steered with the extension, expert planner,
    expert policy) with mean and 95 % CI, and the chosen validation sweep's mean score per (scale, t_stopgrad)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(results)
    extension = extension or {}
    cols = 2 if sweeps else 1
    fig, axes = plt.subplots(len(envs), cols, figsize=(6.0 * cols, 3.6 * len(envs)), squeeze=False)
    for row, env in enumerate(envs):
        result = results[env]
        ax = axes[row, 0]
        groups = [("base", result["base"]["score"], result["base"]["scores"], "tab:gray"),
                  (f"steered\n({reward_of(result)['name']})", result["steered"]["score"], result["steered"]["scores"],
                   "tab:blue")]
        if env in extension:
            ext = extension[env]
            groups.append((f"steered\n({reward_of(ext)['name']})", ext["steered"]["score"], ext["steered"]["scores"],
                           "tab:purple"))
        if "expert_planner" in result:
            groups.append(("expert\nplanner", result["expert_planner"]["score"], result["expert_planner"]["scores"],
                           "tab:orange"))
        groups.append(("expert\npolicy", result["expert_policy"]["score"], None, "tab:green"))
        rng = np.random.default_rng(0)
        for i, (name, stats, scores, color) in enumerate(groups):
            if scores is not None:
                ax.scatter(i + rng.uniform(-0.15, 0.15, len(scores)), scores, s=10, color=color, alpha=0.5)
            interval = [[stats["mean"] - stats["ci95"][0]], [stats["ci95"][1] - stats["mean"]]]
            ax.errorbar([i], [stats["mean"]], yerr=interval, fmt="o", color="black", capsize=5)
        ax.set_xticks(range(len(groups)), [g[0] for g in groups], fontsize=8)
        d = result["difference"]
        ax.set_title(f"{env}: steered - base = {d['mean']:+.1f} [{d['ci95'][0]:+.1f}, {d['ci95'][1]:+.1f}]\n"
                     f"{reward_of(result)['name']} reward, {result.get('guidance', 'input')} guidance, scale "
                     f"{result['scale']:g}, t_stopgrad {result['t_stopgrad']}"
                     + (f", t_startgrad {result['t_startgrad']}" if result.get("t_startgrad") is not None else "")
                     + f", {result['episodes']} episodes",
                     fontsize=9)
        ax.set_ylabel("D4RL-normalised score")
        sw = chosen_sweep((sweeps or {}).get(env, []), result)
        if sw is not None:
            ax = axes[row, 1]
            steered = [r for r in sw["rows"] if r["scale"] > 0]
            scales = sorted({r["scale"] for r in steered}, reverse=True)
            stops = sorted({r["t_stopgrad"] for r in steered})
            grid = np.full((len(scales), len(stops)), np.nan)
            for r in steered:
                grid[scales.index(r["scale"]), stops.index(r["t_stopgrad"])] = r["score_mean"]
            image = ax.imshow(grid, cmap="viridis", aspect="auto")
            for i in range(len(scales)):
                for j in range(len(stops)):
                    ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", color="white", fontsize=8)
            ax.set_xticks(range(len(stops)), stops)
            ax.set_yticks(range(len(scales)), [f"{s:g}" for s in scales])
            ax.set_xlabel("t_stopgrad")
            ax.set_ylabel("scale")
            ax.set_title(f"validation sweep, {sw.get('guidance', 'input')} guidance (unsteered "
                         f"{sw['unsteered_score_mean']:.0f}; {len(sw['seeds'])} seeds x {sw['max_steps']} steps)",
                         fontsize=9)
            fig.colorbar(image, ax=ax)
        elif sweeps:
            axes[row, 1].axis("off")
            axes[row, 1].text(0.5, 0.5, f"no validation sweep of this guidance for {env}", ha="center",
                              va="center", fontsize=9, transform=axes[row, 1].transAxes)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass
class LocoReportArgs:
    """Merge per-env sweep and evaluation JSONs into assets/locomotion_eval.json and .png."""

    envs: Tuple[str, ...] = tuple(ENVS)
    """environments to include (those without an evaluation JSON are skipped)"""
    runs: Path = RUNS
    """folder with locomotion_eval_ENV.json, locomotion_eval_ENV_onpolicy.json and locomotion_sweep_ENV*.json"""
    out: Path = ASSETS / "locomotion_eval.json"
    """merged report (the figure goes next to it as .png)"""
    extra: Tuple[Path, ...] = ()
    """further evaluation JSONs (other settings, seeds or weights) listed under "additional_runs" with their summary"""
    append: bool = False
    """keep the additional runs OUT already lists (their JSONs need not exist any more) and add EXTRA after them"""


def additional_run(path: Path) -> dict:
    """The summary of one further evaluation JSON, as "additional_runs" lists it."""
    run = json.loads(Path(path).read_text())
    return {"file": Path(path).name, "env": run["env"], "episodes": run["episodes"], "seeds": run["seeds"],
            "scale": run["scale"], "t_stopgrad": run["t_stopgrad"], "t_startgrad": run.get("t_startgrad"),
            "guidance": run.get("guidance", "input"),
            "reward": reward_of(run), "generator_seed": run["generator_seed"], "base": run["base"]["score"],
            "steered": run["steered"]["score"], "difference": run["difference"]}


def report_command(args: LocoReportArgs) -> None:
    results, extension, sweeps, windows = {}, {}, {}, {}
    for env in map(env_key, args.envs):
        path = Path(args.runs) / f"locomotion_eval_{env}.json"
        if not path.is_file():
            continue
        window_path = Path(args.runs) / f"locomotion_window_{env}.json"
        if window_path.is_file():
            windows[env] = window_summary(json.loads(window_path.read_text()))
        results[env] = json.loads(path.read_text())
        extension_path = Path(args.runs) / f"locomotion_eval_{env}_onpolicy.json"
        if extension_path.is_file():
            extension[env] = json.loads(extension_path.read_text())
        if sweeps_of(args.runs, env):
            sweeps[env] = sweeps_of(args.runs, env)
    if not results:
        raise FileNotFoundError(f"no locomotion_eval_ENV.json in {args.runs}; run `python -m reward_demo locomotion "
                                f"evaluate --env ENV` first")
    extra = []
    if args.append and Path(args.out).is_file():
        extra = json.loads(Path(args.out).read_text()).get("additional_runs", [])
    extra += [additional_run(path) for path in args.extra]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"evaluation": results, "extension": extension, "sweep": sweeps, "window": windows,
              "additional_runs": extra,
              "target": {"gain": TARGET_GAIN, "met": {env: target_met(r) for env, r in results.items()}}}
    args.out.write_text(json.dumps(report, indent=2))
    plot_evaluations(results, args.out.with_suffix(".png"), sweeps, extension)
    rewards = ", ".join(f"{env}: {reward_of(result)['name']} reward" for env, result in results.items())
    print(f"wrote {args.out} and {args.out.with_suffix('.png')} ({rewards})")
