"""The documentation's results tables, rendered from the committed reports in ``assets/*.json``.

README.md and docs/*.md hold generated blocks between two markers::

    <!-- generated: maze-results -->
    ... (rewritten by `python -m reward_demo docs render`) ...
    <!-- /generated -->

Each block name maps to a function of the loaded reports that returns the block's Markdown, so a number in the
docs is the number in its report. ``docs render --check`` writes nothing and fails when a block is stale;
tests/test_docs.py runs the same check.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from .options import REPO_ROOT as ROOT

REPORTS = {"maze": "maze_eval.json", "locomotion": "locomotion_eval.json", "images": "images_eval.json",
           "images_selection": "images_reward_selection.json"}
BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)
ENV_NAMES = {"hopper": "Hopper", "halfcheetah": "HalfCheetah", "walker2d": "Walker2d"}
MISSING = "not in the report"


def load_reports(assets: Path) -> Dict[str, dict]:
    return {key: json.loads((Path(assets) / name).read_text(encoding="utf-8")) for key, name in REPORTS.items()}


# ------------------------------------------------------------------------------------------------ format


def f2(x: float) -> str:
    return f"{x:.2f}"


def f3(x: float) -> str:
    return f"{x:.3f}"


def signed(x: float) -> str:
    return f"{x:+.1f}"


def ci3(ci: Sequence[float]) -> str:
    return f"({ci[0]:.3f}-{ci[1]:.3f})"


def diff_ci(d: dict) -> str:
    return f"{signed(d['mean'])} [{signed(d['ci95'][0])}, {signed(d['ci95'][1])}]"


def mean_se(s: dict) -> str:
    return f"{s['mean']:.1f} ± {s['se']:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- maze


def distinct_goals(maze: dict) -> int:
    return len({tuple(g["goal"]) for g in maze["goals"]})


def maze_met(s: dict) -> bool:
    return s["hit_rate"] >= 0.9 and s["spearman_median"] >= 0.7


def maze_results(reports: Dict[str, dict]) -> str:
    rows = []
    for m in reports["maze"]["mazes"]:
        s = m["summary"]
        rows.append([m["maze"], str(s["t"]), f"{len(m['goals'])} ({distinct_goals(m)})",
                     f"**{f2(s['hit_rate'])}** / {f2(s['hit_rate_reference'])}", f"**{f3(s['spearman_median'])}**",
                     f"{f3(s['auroc_expert_vs_base']['mean_reward'])} / {f3(s['auroc_expert_vs_base']['reward_gain'])}",
                     f"{s['steer_scale']:g}",
                     f"{f2(s['final_distance_base'])} / **{f2(s['final_distance_steered'])}** / "
                     f"{f2(s['final_distance_expert'])}"])
    return table(["maze", "t", "goals evaluated (distinct)", "hit rate: all / 8 reference (target >= 0.90)",
                  "Spearman median (target >= 0.7)", "AUROC expert vs base trips: mean reward / reward gain",
                  "steering scale", "final distance to goal: base / steered / expert"], rows)


# -------------------------------------------------------------------------------------------- locomotion


def loco_met(ev: dict) -> bool:
    from .locomotion.report import target_met

    return target_met(ev)


#: what a run made before the reward was recorded (``locomotion evaluate --reward``) says in the reward column
UNKNOWN_REWARD = "unknown"


def reward_text(ev: dict) -> str:
    """The reward an evaluation, sweep or additional run used: its name ("paper", "onpolicy"), else unknown."""
    return (ev.get("reward") or {}).get("name") or UNKNOWN_REWARD


def steering_text(ev: dict) -> str:
    window = f", t_startgrad {ev['t_startgrad']}" if ev.get("t_startgrad") is not None else ""
    return f"{ev.get('guidance', 'input')} guidance, scale {ev['scale']:g}, t_stopgrad {ev['t_stopgrad']}{window}"


def locomotion_results(reports: Dict[str, dict]) -> str:
    """The paper reward's evaluation per env, the on-policy extension's on the same seeds in the row below it."""
    rows = []
    loco = reports["locomotion"]
    for env, paper in loco["evaluation"].items():
        for ev in [paper] + ([loco["extension"][env]] if env in loco.get("extension", {}) else []):
            planner = ev.get("expert_planner")
            seeds = f"{ev['episodes']} (seeds {ev['seeds'][0]}-{ev['seeds'][1]})"
            met = ("yes" if loco_met(ev) else "no") if ev is paper else "(extension)"
            rows.append([ENV_NAMES.get(env, env), reward_text(ev), steering_text(ev), seeds,
                         mean_se(ev["base"]["score"]), mean_se(ev["steered"]["score"]),
                         f"**{diff_ci(ev['difference'])}**",
                         f"{ev['difference']['steered_better']} of {ev['episodes']}", met,
                         mean_se(planner["score"]) if planner else MISSING,
                         f"{ev['expert_policy']['score']['mean']:.1f}", f3(ev["reward_auroc_heldout"]["auroc"])])
    return table(["env", "reward", "steering", "episodes", "base", "steered", "steered - base (95 % bootstrap CI)",
                  "steered better", "target met (>= +10, CI above 0)", "expert diffusion planner", "expert policy",
                  "reward AUROC, held-out expert vs base windows (t = 0)"], rows)


#: what each additional run of assets/locomotion_eval.json was (its file name is the key)
ADDITIONAL_RUNS = {
    "eval_hopper_reward_short.json": "Algorithm 1 reward matched on every entry, 4k steps (first release)",
    "eval_walker2d_reward_short.json": "Algorithm 1 reward matched on every entry, 3k steps (first release)",
    "eval_hopper_algorithm1_reward.json": "Algorithm 1 reward matched on every entry, 16k steps",
    "eval_walker2d_algorithm1_reward.json": "Algorithm 1 reward matched on every entry, 12k steps",
    "eval_hopper_onpolicy_experiment_run.json": "first on-policy reward, 4 rounds (the experiment script)",
    "eval_walker2d_onpolicy_experiment_run.json": "first on-policy reward, 4 rounds (the experiment script)",
    "eval_hc_fp32_0.5_10.json": "Algorithm 1 reward matched on every entry, its fp32 weights",
    "eval_hc_fp16_40ep.json": "Algorithm 1 reward matched on every entry (fp16), 40 episodes",
    "eval_hc_fp16_fresh_seeds_110000_40ep.json": "Algorithm 1 reward matched on every entry, 40 fresh seeds",
    "eval_hopper_onpolicy_seeds100000.json": "the on-policy extension, the headline result before 2026-12-06",
    "eval_walker2d_onpolicy_seeds100000.json": "the on-policy extension, the headline result before 2026-12-06",
    "eval_halfcheetah_algorithm1_seeds100000.json": "Algorithm 1 reward matched on every entry, the headline result "
                                                    "before 2026-12-06",
    "locomotion_eval_walker2d_18k_reward.json": "free-entry reward, 18k steps, on the 6k-step base planner (shipped "
                                                "before the 25k-step planner)",
    "locomotion_eval_walker2d_36k_reward.json": "free-entry reward, 36k steps, on the 25k-step base planner (shipped "
                                                "before the same reward trained on to 54k)",
    "locomotion_eval_hopper_every_step.json": "the shipped reward and steering with the reward's gradient at every "
                                              "reverse step (shipped before t_startgrad 10)",
    "locomotion_eval_walker2d_54k_every_step.json": "the shipped 54k-step reward and steering with the reward's "
                                                    "gradient at every reverse step (shipped before t_startgrad 10)",
}


def locomotion_additional_runs(reports: Dict[str, dict]) -> str:
    rows = []
    for run in reports["locomotion"]["additional_runs"]:
        rows.append([ENV_NAMES.get(run["env"], run["env"]), ADDITIONAL_RUNS.get(run["file"], run["file"]),
                     reward_text(run), f"{run['seeds'][0]}-{run['seeds'][1]}", steering_text(run),
                     f"{run['base']['mean']:.1f}", f"{run['steered']['mean']:.1f}", diff_ci(run["difference"]),
                     f"{run['difference']['steered_better']} of {run['episodes']}"])
    return table(["env", "run", "reward", "reset seeds", "steering", "base", "steered",
                  "steered - base (95 % CI)", "steered better"], rows)


def locomotion_sweeps(reports: Dict[str, dict]) -> str:
    rows = []
    for env, env_sweeps in reports["locomotion"]["sweep"].items():
        for sw in env_sweeps if isinstance(env_sweeps, list) else [env_sweeps]:
            chosen = sw["chosen"]
            steered = [r for r in sw["rows"] if r["scale"] > 0]
            pick = next(r for r in steered
                        if r["scale"] == chosen["scale"] and r["t_stopgrad"] == chosen["t_stopgrad"])
            others = [r["score_mean"] for r in steered if r is not pick]
            rows.append([ENV_NAMES.get(env, env), reward_text(sw), f"{len(sw['seeds'])} x {sw['max_steps']} steps",
                         f"{sw['guidance']}", str(len(steered)), f"{sw['unsteered_score_mean']:.1f}",
                         f"scale {chosen['scale']:g}, t_stopgrad {chosen['t_stopgrad']}: {pick['score_mean']:.1f}",
                         f"{min(others):.1f}-{max(others):.1f}"])
    return table(["env", "reward", "validation episodes", "guidance", "settings", "unsteered",
                  "best setting of this guidance: score", "other settings"], rows)


def locomotion_window(reports: Dict[str, dict]) -> str:
    """The t_startgrad validation runs: per env and window, the gain over the unsteered planner and the rule."""
    rows = []
    for env, run in reports["locomotion"].get("window", {}).items():
        for row in run["rows"]:
            gain = row["gain"]
            every = row["t_startgrad"] == run["n_timesteps"]
            rows.append([ENV_NAMES.get(env, env), reward_text(run),
                         f"{run['guidance']} guidance, scale {run['scale']:g}, t_stopgrad {run['t_stopgrad']}",
                         f"{run['episodes']} (seeds {run['seeds'][0]}-{run['seeds'][1]}) x {run['max_steps']} steps",
                         f"t < {row['t_startgrad']}" + (" (every step)" if every else ""),
                         f"{run['unsteered_score_mean']:.1f}", f"{row['score_mean']:.1f}",
                         diff_ci(gain), f"{gain['better']} of {run['episodes']}",
                         "-" if row["share_of_every_step_gain"] is None else f"{row['share_of_every_step_gain']:.2f}",
                         "yes" if row["meets_rule"] else "no"])
    return table(["env", "reward", "steering", "validation episodes", "reward's gradient at", "unsteered", "steered",
                  "gain (95 % CI)", "better", "share of the every-step gain",
                  "meets the rule (>= +10, CI above 0, share >= 0.8)"], rows)


# ------------------------------------------------------------------------------------------------ images


def images_results(reports: Dict[str, dict]) -> str:
    ev = reports["images"]
    new, rec = ev["heldout_novel_prompts"], ev["heldout_recorded_prompts"]
    t = ev["targets"]

    def both(key: str, fmt=f3, bold=False, ci=False) -> List[str]:
        cells = []
        for s in (new, rec):
            if key not in s:
                cells.append("-")
                continue
            text = fmt(s[key])
            cell = f"**{text}**" if bold else text
            cells.append(cell + (f" {ci3(s['ci95'][key])}" if ci else ""))
        return cells

    def evidence(key: str) -> List[str]:
        return [f3(s["evidence"][key]) if key in s.get("evidence", {}) else "-" for s in (new, rec)]

    drawn = [f"{f3(s['evidence']['b_prompt_auroc_drawn_as_labelled'])} ({s['evidence']['n_drawn_as_labelled']} of "
             f"{s['n']})" if "b_prompt_auroc_drawn_as_labelled" in s.get("evidence", {}) else "-" for s in (new, rec)]
    rows = [
        ["(a) balanced accuracy, SLD final latent vs SD final latent", f">= {t['pair_balanced_accuracy']:g}",
         *both("a_pair_balanced_accuracy", bold=True, ci=True)],
        ["(a) the same, unsafe prompts only", "", *both("a_pair_balanced_accuracy_unsafe_prompts")],
        ["(a) the same, safe prompts only", "", *both("a_pair_balanced_accuracy_safe_prompts")],
        ["(a) pairwise: r(SLD) > r(SD) for the same prompt and seed", "", *both("a_pairwise_accuracy")],
        ["(b) AUROC of r(SD final latent), safe vs unsafe prompts", f">= {t['prompt_auroc']:g}",
         *both("b_prompt_auroc", bold=True, ci=True)],
        [f"(b) balanced accuracy of the shipped verdict threshold ({ev['threshold']:.3f})", "",
         *both("b_verdict_balanced_accuracy")],
        ["(b) per prompt, its reward averaged over its seeds (a diagnosis)", "", *both("b_prompt_auroc_seed_mean")],
        *([[f"(b) verdict outside its uncertain band (+-{new['half_width']:g}, chosen on calibration prompts): "
            f"balanced accuracy (share left uncertain)", f">= {t['decided_balanced_accuracy']:g}"
            if "decided_balanced_accuracy" in t else "",
            f"{f3(new['b_decided_balanced_accuracy'])} ({100 * new['uncertain_fraction']:.0f} % uncertain)", "-"]]
          if "b_decided_balanced_accuracy" in new else []),
        ["for scale: the concept classifier's AUROC on the same SD images", "", *evidence("classifier_b_prompt_auroc")],
        ["(b) on the images the classifier reads as their prompt's label", "", *drawn],
    ]
    mean = ev.get("seed_mean")
    if mean:
        n_seeds = len(ev["training_seeds"])
        rows += [[f"**mean over the {n_seeds} training seeds**: (a) balanced accuracy",
                  f">= {t['pair_balanced_accuracy']:g}",
                  f"**{f3(mean['a_pair_balanced_accuracy'])}**", "-"],
                 [f"**mean over the {n_seeds} training seeds**: (b) AUROC", f">= {t['prompt_auroc']:g}",
                  f"**{f3(mean['b_prompt_auroc'])}**", "-"],
                 [f"**mean over the {n_seeds} training seeds**: the verdict outside its band (share uncertain)",
                  f">= {t['decided_balanced_accuracy']:g}" if "decided_balanced_accuracy" in t else "",
                  f"**{f3(mean['b_decided_balanced_accuracy'])}** ({100 * mean['uncertain_fraction']:.0f} % uncertain)",
                  "-"]]
        rows += [[f"`{s['reward']}`" + (" (the report's reward)" if k == 0 else ""), "",
                  f"(a) {f3(s['a_pair_balanced_accuracy'])}, (b) {f3(s['b_prompt_auroc'])}, verdict "
                  f"{f3(s['b_decided_balanced_accuracy'])}"
                  + (f"; chain score (b) {f3(s['chain_score']['b_prompt_auroc'])}, verdict "
                     f"{f3(s['chain_score']['b_decided_balanced_accuracy'])}" if "chain_score" in s else ""),
                  "-"] for k, s in enumerate(ev["training_seeds"])]
    rows += chain_score_rows(ev)
    return table(["figure", "target", f"{new['n_prompts']} written prompts ({new['n']} images)",
                  f"{rec['n_prompts']} held-out grammar prompts ({rec['n']} images)"], rows)


def chain_score_rows(ev: dict) -> List[List[str]]:
    """The images-results rows of this project's chain score (the mean reward along the SD chain), beside the
    paper's final-latent figures: the written prompts' column, and the grammar prompts' where the report has it;
    none for a report without it."""
    chain = ev.get("chain_score")
    if not chain:
        return []
    recorded = (ev.get("heldout_recorded_prompts") or {}).get("chain_score") or {}

    def auroc_cell(part: dict) -> str:
        return f"{f3(part['b_prompt_auroc'])} {ci3(part['ci95']['b_prompt_auroc'])}" if part else "-"

    def verdict_cell(part: dict) -> str:
        if "b_decided_balanced_accuracy" not in part:
            return "-"
        return f"{f3(part['b_decided_balanced_accuracy'])} ({100 * part['uncertain_fraction']:.0f} % uncertain)"

    name = "**this project's chain score** (the mean of r over the SD chain's latents)"
    rows = [[f"{name}: (b) AUROC", "", auroc_cell(chain), auroc_cell(recorded)]]
    if "b_decided_balanced_accuracy" in chain:
        rows.append([f"{name}: its verdict outside its band (+-{chain['half_width']:g}, threshold "
                     f"{chain['threshold']:.3f}, both chosen on calibration prompts; share uncertain)", "",
                     verdict_cell(chain), verdict_cell(recorded)])
    mean = (ev.get("seed_mean") or {}).get("chain_score")
    if mean:
        n_seeds = len(ev["training_seeds"])
        rows.append([f"{name}, **mean over the {n_seeds} training seeds**: (b) AUROC; the verdict outside its band "
                     "(share uncertain)", "", f"**{f3(mean['b_prompt_auroc'])}**; "
                     + (f"**{f3(mean['b_decided_balanced_accuracy'])}** ({100 * mean['uncertain_fraction']:.0f} % "
                        "uncertain)" if "b_decided_balanced_accuracy" in mean else "-"), "-"])
    return rows


def images_batches(reports: Dict[str, dict]) -> str:
    rows = []
    for name, b in reports["images"]["heldout_novel_prompts"]["batches"].items():
        rows.append([name, str(b["n"]),
                     f"{f3(b['a_pair_balanced_accuracy'])} {ci3(b['ci95']['a_pair_balanced_accuracy'])}",
                     f"{f3(b['b_prompt_auroc'])} {ci3(b['ci95']['b_prompt_auroc'])}"])
    return table(["batch of written prompts", "images", "(a) balanced accuracy", "(b) AUROC"], rows)


#: what each reward scored by `images compare-rewards` was (its folder is the key)
SELECTION_RUNS = {
    "checkpoints/images/reward": "**v1 release** (shipped until 2026-12-06): concept \"gun, knife, blood, fire\", 400 "
                                 "recorded prompts, `--seed 2`",
    "runs/images/reward_v4": "the same, `--seed 0` (shipped until 2026-12-03; the seed sets the split, the initial "
                             "weights and the batches)",
    "runs/images/reward_v4_seed1": "the same, `--seed 1`",
    "runs/images/reward_v4_800": "the same, 800 recorded prompts (21 min more recording and training)",
    "runs/images/reward_v4_s1250": "the same, 1250 steps (the validation loss was lowest there)",
    "runs/images/reward_v4_d64": "the same, width 64 instead of 32 (27 min to train)",
    "runs/images/reward_v4_800_d64": "the same, width 64 on the 800 recorded prompts (18 min to train)",
    "runs/images/reward_v5": "concept \"a gun, a knife, blood, fire\" (recommended by `compare-concepts`), 400 "
                             "prompts; (a) against the shipped SLD",
    "runs/images/reward_v3": "the previous reward (concept \"weapon, gun, knife, blood, gore, fire, violence\"); "
                             "(a) against the new SLD",
    "runs/images/reward_v4_ens3": "an ensemble of 3 networks (seeds 0-2 on one split, `--members 3`; 12 min more)",
    "runs/images/reward_v4_perlevel": "every noise level weighted equally (`--normalize-per-level`)",
    "runs/images/reward_v4_refcfg": "the reference's optimiser (lr 1e-4, `--grad-clip 0.002`)",
    "runs/images/reward_v4_center": "targets minus their per-level mean (what SLD changes in every prompt alike; "
                                    "code not kept)",
    "runs/images/reward_v4_oracle": "diagnosis, not a candidate: SLD made the identity on safe prompts (uses the "
                                    "labels)",
    "runs/images/reward_v4_pen1e-6": "the optional penalty on r^2, `--penalty 1e-6`",
    "runs/images/reward_v4_pen1e-5": "the optional penalty on r^2, `--penalty 1e-5`",
    "runs/images/reward_v4_low500": "matched only on the low-noise half of each chain (levels <= 481; the reference "
                                    "uses all 50 steps; code not kept)",
}


def images_selection(reports: Dict[str, dict]) -> str:
    sel = reports["images_selection"]
    rows = [[SELECTION_RUNS.get(r["reward"], f"`{r['reward']}`"), f"`{Path(r['reward']).name}`",
             f3(r["b_prompt_auroc"]), f3(r["a_pair_balanced_accuracy"]), f3(r["b_verdict_balanced_accuracy"])]
            for r in sel["rewards"]]
    return table(["candidate (lr 1e-3, 3000 steps unless stated)", "folder",
                  f"(b) AUROC, {sel['n_prompts']} selection prompts", "(a) balanced accuracy there",
                  "verdict balanced accuracy there"], rows)


# ------------------------------------------------------------------------------------------------ glance


def verdict(met: Sequence[bool]) -> str:
    return "**met**" if all(met) else f"**met in {sum(met)} of {len(met)}**"


def images_glance(im: dict, new: dict, rec: dict) -> str:
    """The Images result cell: the mean over the training seeds where several were evaluated, else the one reward."""
    mean = im.get("seed_mean")
    if mean:
        return (f"mean of {len(im['training_seeds'])} seeds on the written prompts: (a) "
                f"{f3(mean['a_pair_balanced_accuracy'])}, (b) {f3(mean['b_prompt_auroc'])}, verdict outside its band "
                f"{f3(mean['b_decided_balanced_accuracy'])}")
    return (f"(a) {f3(new['a_pair_balanced_accuracy'])} / {f3(rec['a_pair_balanced_accuracy'])}, "
            f"(b) {f3(new['b_prompt_auroc'])} / {f3(rec['b_prompt_auroc'])}")


def chain_glance(im: dict) -> str:
    """"; this project's chain score ..." after the paper's figures, where the report has its seed mean."""
    chain = (im.get("seed_mean") or {}).get("chain_score")
    if not chain or "b_decided_balanced_accuracy" not in chain:
        return ""
    return (f"; this project's chain score (an extension, not the paper's): (b) {f3(chain['b_prompt_auroc'])}, "
            f"verdict {f3(chain['b_decided_balanced_accuracy'])}")


def results_at_a_glance(reports: Dict[str, dict]) -> str:
    mazes = reports["maze"]["mazes"]
    names = " / ".join(m["maze"] for m in mazes)
    goals = " / ".join(f"{len(m['goals'])} ({distinct_goals(m)})" for m in mazes)
    maze_row = ["Maze2D (" + names + ")", "the learned reward peaks at the goal, for every maze",
                f"argmax of the reward heatmap in or next to the goal's cell, over {goals} evaluated (distinct) goals; "
                "median Spearman of the reward with the path distance", ">= 0.90; >= 0.7",
                " / ".join(f2(m["summary"]["hit_rate"]) for m in mazes) + "; "
                + " / ".join(f3(m["summary"]["spearman_median"]) for m in mazes) + ": "
                + verdict([maze_met(m["summary"]) for m in mazes])]
    evs = reports["locomotion"]["evaluation"]
    n = sorted({ev["episodes"] for ev in evs.values()})
    loco_row = ["Locomotion (" + " / ".join(ENV_NAMES.get(e, e) for e in evs) + ")",
                "steering the base planner with the learned reward raises its score",
                f"D4RL-normalised score, steered minus unsteered, the paper's offline reward, "
                f"{'/'.join(map(str, n))} evaluation episodes, 95 % bootstrap CI", "mean >= +10, CI above 0",
                " / ".join(diff_ci(ev["difference"]) for ev in evs.values()) + ": "
                + verdict([loco_met(ev) for ev in evs.values()])]
    im = reports["images"]
    new, rec, t = im["heldout_novel_prompts"], im["heldout_recorded_prompts"], im["targets"]
    met = im.get("targets_met", {})
    images_row = ["Images (embedded model)", "the reward penalises harmful images and rewards harmless ones",
                  f"(a) balanced accuracy, SLD vs SD final latents; (b) AUROC of r(SD final latent), safe vs unsafe "
                  f"prompts; {new['n_prompts']} written prompts / {rec['n_prompts']} held-out grammar prompts",
                  f"(a) >= {t['pair_balanced_accuracy']:g}; (b) >= {t['prompt_auroc']:g}"
                  + (f"; verdict >= {t['decided_balanced_accuracy']:g}" if "decided_balanced_accuracy" in t else ""),
                  images_glance(im, new, rec) + ": " + verdict([bool(v) for v in met.values()])
                  + chain_glance(im)]
    return table(["domain", "the paper's claim", "our figure", "target", "result"], [maze_row, loco_row, images_row])


RENDERERS: Dict[str, Callable[[Dict[str, dict]], str]] = {
    "results-at-a-glance": results_at_a_glance,
    "maze-results": maze_results,
    "locomotion-results": locomotion_results,
    "locomotion-additional-runs": locomotion_additional_runs,
    "locomotion-sweeps": locomotion_sweeps,
    "locomotion-window": locomotion_window,
    "images-results": images_results,
    "images-batches": images_batches,
    "images-selection": images_selection,
}


# ---------------------------------------------------------------------------------------------- rewrite


def render_blocks(text: str, reports: Dict[str, dict]) -> str:
    """``text`` with every generated block's body replaced by its renderer's output."""
    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in RENDERERS:
            raise ValueError(f"unknown generated block {name!r}; known: {', '.join(RENDERERS)}")
        return f"{match.group(1)}{RENDERERS[name](reports)}\n{match.group(4)}"

    return BLOCK.sub(replace, text)


def doc_files(root: Path) -> List[Path]:
    return [Path(root) / "README.md", *sorted((Path(root) / "docs").glob("*.md"))]


def stale_files(root: Path = ROOT, assets: Optional[Path] = None) -> Dict[Path, str]:
    """The doc files whose generated blocks differ from a fresh render, with their rendered text."""
    reports = load_reports(assets or Path(root) / "assets")
    out = {}
    for path in doc_files(root):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            new = render_blocks(text, reports)
            if new != text:
                out[path] = new
    return out


@dataclass
class DocsRenderArgs:
    """Rewrite the generated results tables of README.md and docs/*.md from assets/*.json."""

    root: Path = ROOT
    """repository root (README.md, docs/ and assets/)"""
    check: bool = False
    """write nothing; exit with an error when a generated block differs from its report"""


def render_command(args: DocsRenderArgs) -> None:
    stale = stale_files(args.root)
    names = ", ".join(str(p.relative_to(args.root)) for p in stale)
    if args.check:
        if stale:
            raise ValueError(f"generated blocks out of date in {names}; run `python -m reward_demo docs render`")
        print("generated blocks up to date")
        return
    for path, text in stale.items():
        path.write_text(text, encoding="utf-8")
    print(f"rewrote {names}" if stale else "generated blocks up to date")


COMMANDS = {"render": (DocsRenderArgs, render_command)}
