"""The held-out evaluation's figure (``assets/images_eval.png``) and its one-line summaries (printed by
``images evaluate`` and ``images compare-rewards``)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np


def plot_evaluation(path: Path, rows: list, examples: list, report: dict):
    """The evaluation figure at ``path``: (b)'s histogram, (a)'s scatter, the reward along the chains, the reward by
    drawn concept, and example images (4 unsafe, 2 safe) picked from the written prompts the report evaluated
    (``report["eval_prompts"]``: v1's or v2's, as its ``prompt_set`` says)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(19, 9))
    grid = fig.add_gridspec(2, 4, height_ratios=[1, 1.1])
    ax = fig.add_subplot(grid[0, 0])
    labels = np.array([r["label"] for r in rows])
    base = np.array([r["base_reward"] for r in rows])
    safe = np.array([r["safe_reward"] for r in rows])
    bins = np.linspace(min(base.min(), safe.min()), max(base.max(), safe.max()), 25)
    ax.hist(base[labels == "safe"], bins, alpha=0.6, label="safe prompts", color="tab:green")
    ax.hist(base[labels == "unsafe"], bins, alpha=0.6, label="unsafe prompts", color="tab:red")
    ax.axvline(report["threshold"], color="k", ls="--", label="verdict threshold")
    novel = report["heldout_novel_prompts"]
    b_ci = novel.get("ci95", {}).get("b_prompt_auroc")
    ax.set_title(f"(b) reward of the plain image, novel prompts\nAUROC {novel.get('b_prompt_auroc', float('nan')):.3f}"
                 + (f" (95 % CI {b_ci[0]:.2f}-{b_ci[1]:.2f})" if b_ci else ""))
    ax.set_xlabel("r(final SD latent)")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[0, 1])
    for kind, colour in (("safe", "tab:green"), ("unsafe", "tab:red")):
        m = labels == kind
        ax.scatter(base[m], safe[m], s=14, color=colour, label=f"{kind} prompts")
    lo, hi = bins[0], bins[-1]
    ax.plot([lo, hi], [lo, hi], "k:", lw=1)
    ax.set_xlabel("r(Stable Diffusion final latent)")
    ax.set_ylabel("r(Safe Latent Diffusion final latent)")
    a_ci = novel.get("ci95", {}).get("a_pair_balanced_accuracy")
    ax.set_title(f"(a) same prompt and seed\nbalanced acc. {novel['a_pair_balanced_accuracy']:.3f}"
                 + (f" (95 % CI {a_ci[0]:.2f}-{a_ci[1]:.2f})" if a_ci else "")
                 + f", pairwise {novel['a_pairwise_accuracy']:.3f}")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[0, 2])
    for kind, colour in (("safe", "tab:green"), ("unsafe", "tab:red")):
        chains = [r for r in rows if r["label"] == kind and r["base_chain_rewards"]]
        if not chains:
            continue
        b = np.array([r["base_chain_rewards"] for r in chains]).mean(0)
        s = np.array([r["safe_chain_rewards"] for r in chains]).mean(0)
        ax.plot(b, color=colour, ls="--", label=f"{kind} prompts, SD")
        ax.plot(s, color=colour, label=f"{kind} prompts, SLD")
    ax.set_xlabel("reverse step")
    ax.set_ylabel("mean reward of the latent")
    ax.set_title("reward along the chains")
    ax.legend(fontsize=8)
    by_concept = report["heldout_novel_prompts"].get("evidence", {}).get("base_reward_by_drawn_concept")
    if by_concept:
        from .embedded.model import folder_concept_set
        from .models import embedded_concept_set

        unsafe = (embedded_concept_set(report["model"]) or folder_concept_set()).unsafe
        ax = fig.add_subplot(grid[0, 3])
        names = list(by_concept)
        means = np.array([by_concept[c]["mean_reward"] for c in names])
        left = min(means.min(), report["threshold"]) - 0.3  # rewards are negative: bars grow from the left edge
        ax.barh(range(len(names)), means - left, left=left,
                color=["tab:red" if c in unsafe else "tab:green" for c in names])
        ax.set_yticks(range(len(names)), [f"{c} ({by_concept[c]['n']})" for c in names], fontsize=7)
        ax.set_xlim(left, max(means.max(), report["threshold"]) + 0.3)
        ax.axvline(report["threshold"], color="k", ls="--")
        ax.set_xlabel("mean r(final SD latent)")
        ax.set_title("reward by what the SD image shows\n(concept classifier; red: hazards)")
    evaluated = [(e["prompt"], e["label"]) for e in report["eval_prompts"]]
    picks = [e for e in examples if e.prompt in {p for p, lab in evaluated if lab == "unsafe"}][:4] + \
            [e for e in examples if e.prompt in {p for p, lab in evaluated if lab == "safe"}][:2]
    sub = grid[1, :].subgridspec(2, len(picks))
    for j, example in enumerate(picks):
        for i, (image, name, value) in enumerate(((example.base_image, "SD", example.base_reward),
                                                  (example.safe_image, "SLD", example.safe_reward))):
            ax = fig.add_subplot(sub[i, j])
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{example.prompt[:24]}\n{name}: r={value:.2f}" if i == 0 else f"{name}: r={value:.2f}",
                         fontsize=8)
    fig.suptitle("Image reward learned from Stable Diffusion vs Safe Latent Diffusion (embedded model), "
                 "held-out prompts")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def with_interval(part: dict, name: str) -> str:
    """A figure of ``part`` to 3 decimals, followed by its 95 % interval when ``part["ci95"]`` has one."""
    text = f"{part.get(name, float('nan')):.3f}"
    ci = part.get("ci95", {}).get(name)
    return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def figures_text(part: dict) -> str:
    """(a) and (b) of one result on one line, then, when measured, what the concept classifier reads in the
    same SD images."""
    text = (f"(a) balanced acc {with_interval(part, 'a_pair_balanced_accuracy')} pairwise "
            f"{part['a_pairwise_accuracy']:.3f} | (b) AUROC {with_interval(part, 'b_prompt_auroc')} "
            f"verdict bal. acc {part.get('b_verdict_balanced_accuracy', float('nan')):.3f} "
            f"(n={part['n']}; [95 % bootstrap interval over prompts])")
    evidence = part.get("evidence", {})
    if "classifier_b_prompt_auroc" in evidence:
        text += f"\n  the concept classifier on the same SD images: AUROC {evidence['classifier_b_prompt_auroc']:.3f}"
    if "n_drawn_as_labelled" in evidence:
        text += (f"; the reward's (b) on the {evidence['n_drawn_as_labelled']} images drawn as labelled "
                 f"{evidence['b_prompt_auroc_drawn_as_labelled']:.3f}")
    if "drawn_concepts" in evidence:
        shown = Counter()
        for counts in evidence["drawn_concepts"]["safe"].values():
            shown.update(counts)
        text += ("\n  what the SLD images show most often: "
                 + ", ".join(f"{c} {n}" for c, n in shown.most_common(3)) + f" (of {sum(shown.values())})")
    if "base_reward_by_drawn_concept" in evidence:
        ranked = list(evidence["base_reward_by_drawn_concept"].items())
        listed = ranked if len(ranked) <= 6 else ranked[:3] + [("...", None)] + ranked[-3:]
        text += "\n  the reward's mean by what the SD image shows, lowest first: " + ", ".join(
            c if v is None else f"{c} {v['mean_reward']:.2f} (n={v['n']})" for c, v in listed)
    return text


__all__ = ["plot_evaluation", "with_interval", "figures_text"]
