"""The verdict threshold and its "uncertain" band, calibrated on written prompts (``python -m reward_demo images
calibrate-threshold``).

Calibration: ``train-reward`` picks the verdict threshold on its training prompts, whose images the reward was
fitted on: their rewards lie further apart than those of prompts it never saw, and they are grammar captions, not
what people type. ``calibrate-threshold`` scores the calibration prompts of the model's concept set instead
(``prompts.written_prompt_set(name, "calibration")``: ``CALIBRATION_PROMPTS`` for a v1 model and for a model of
unknown concept set, a Stable Diffusion model; the "calibration" split of the v2 prompts for a v2 model): prompts
written like the evaluation's but none of them, none a training caption, and none used by any evaluation or test. It
stores the threshold with the best balanced accuracy on them as the reward's ``threshold`` and keeps the training
prompts' one as ``threshold_training_prompts``. Only the verdict moves: (a), (b) and every reward stay as they were.
The chain score (``inference.chain_score``, this project's extension) gets its own threshold and band from the same
images by the same rules, stored as ``chain_score``.

On the same calibration images it then chooses the half-width of the band around the threshold inside which the
verdict is "uncertain" (``choose_half_width``), and stores it as ``uncertain_half_width``. The rule: the
smallest half-width (a multiple of 0.001) such that the verdicts outside the band reach balanced accuracy >=
``--target-accuracy`` (0.9) while at most ``--max-uncertain`` (0.5) of the calibration images fall inside it; if none
does, the smallest one with the highest balanced accuracy within that limit. The threshold is chosen on these images
too, so both figures are optimistic for prompts it never saw. No evaluation or test prompt is used. The images'
rewards are stored with the result and the name of their prompt set (``prompt_set``, e.g. "v1/calibration"), so
``--reuse-rewards`` recomputes threshold and band from the config alone (refused when the model's set is another).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..options import ImageModelOption, PromptBatchOption, SamplerOptions
from .prompts import WrittenPromptSet, written_prompt_set
from .verdicts import MAX_UNCERTAIN_FRACTION, TARGET_BALANCED_ACCURACY, choose_half_width


@dataclass
class CalibrateArgs(PromptBatchOption, SamplerOptions, ImageModelOption):
    """Set a reward's verdict threshold and its "uncertain" band on written calibration prompts (of the model's
    concept set) it was never fitted on."""

    reward: Optional[Path] = None
    """reward checkpoint folder whose config.json gets the threshold (default: the shipped one)"""
    n_seeds: int = 2
    """seeds per calibration prompt (0 .. n_seeds - 1)"""
    target_accuracy: float = TARGET_BALANCED_ACCURACY
    """the band's rule: balanced accuracy the verdicts outside the band must reach on the calibration images"""
    max_uncertain: float = MAX_UNCERTAIN_FRACTION
    """the band's rule: the largest fraction of the calibration images it may call uncertain"""
    reuse_rewards: bool = False
    """recompute threshold and band from the calibration rewards stored in the config (no generation)"""


#: what a v1 calibration records as its ``prompts``: a fixed record, kept as stored (written before the v2 prompts
#: existed)
V1_PROMPTS_RECORD = "reward_demo.images.calibration.CALIBRATION_PROMPTS"


def calibration_prompt_set(model: Optional[str]) -> WrittenPromptSet:
    """The written calibration prompts of ``model``'s concept set (v1's for a model whose set is unknown)."""
    from .models import embedded_concept_set

    concepts = embedded_concept_set(model)
    return written_prompt_set(concepts.name if concepts is not None else None, "calibration")


def verdict_rule(scores: np.ndarray, labels: np.ndarray, args: CalibrateArgs) -> tuple:
    """(threshold with the best balanced accuracy, the uncertain band by ``args``' rule, that balanced accuracy) of
    one score on the labelled calibration images."""
    from ..metrics import balanced_accuracy, best_threshold

    safe, unsafe = scores[labels == "safe"], scores[labels == "unsafe"]
    threshold = best_threshold(safe, unsafe)
    band = choose_half_width(safe, unsafe, threshold, args.target_accuracy, args.max_uncertain)
    return threshold, band, balanced_accuracy(safe, unsafe, threshold)


def calibrate_threshold(args: CalibrateArgs) -> dict:
    """Score the calibration prompts' unguided images, store the best balanced-accuracy threshold and the uncertain
    band's half-width in the reward's config.json and return what was stored."""
    from ..checkpoint import CONFIG_NAME, read_config
    from ..metrics import balanced_accuracy
    from .inference import score_prompts
    from .models import reward_folder

    if not 1 <= args.n_seeds <= 16:
        raise ValueError(f"n_seeds must be in 1..16, got {args.n_seeds}")
    folder = reward_folder(args.model, str(args.reward) if args.reward else None)
    config = read_config(folder)
    meta = config["metadata"]
    written = calibration_prompt_set(args.model)
    prompts = [p for p, _ in written.prompts]
    if args.reuse_rewards:
        stored = meta.get("threshold_calibration", {})
        if "rewards" not in stored:
            raise ValueError(f"{folder} stores no calibration rewards: run calibrate-threshold without --reuse-rewards")
        stored_set = stored.get("prompt_set", "v1/calibration")  # recorded before the v2 prompts: v1's
        if stored_set != written.name:
            raise ValueError(f"{folder} stores calibration rewards of {stored_set}, this model calibrates on "
                             f"{written.name}: run calibrate-threshold without --reuse-rewards")
        args = CalibrateArgs(**{**vars(args), **{k: stored[k] for k in ("n_seeds", "n_steps", "preset")}})
        rewards = np.array(stored["rewards"], float)
        chain_stored = meta.get("chain_score", {}).get("calibration", {})
        chain_scores = np.array(chain_stored["scores"], float) if "scores" in chain_stored else None
    else:
        scores = [s for seed in range(args.n_seeds)
                  for s in score_prompts(prompts, seed=seed, n_steps=args.n_steps, preset=args.preset,
                                         model=args.model, reward=str(folder), batch_size=args.batch_size)]
        rewards = np.array([s.base_reward for s in scores])
        chain_scores = np.array([s.base_chain_score for s in scores])
    labels = np.array([lab for _, lab in written.prompts] * args.n_seeds)
    if len(rewards) != len(labels):
        raise ValueError(f"{len(rewards)} stored calibration rewards for {len(labels)} images: run it again")
    safe, unsafe = rewards[labels == "safe"], rewards[labels == "unsafe"]
    training = float(meta.get("threshold_training_prompts", meta["threshold"]))
    threshold, band, accuracy = verdict_rule(rewards, labels, args)
    record = V1_PROMPTS_RECORD if written.name == "v1/calibration" else \
        f"reward_demo.images.prompts.written_prompt_set: {written.name}"
    calibration = {"prompts": record, "prompt_set": written.name, "n_prompts": len(prompts),
                   "n_seeds": args.n_seeds, "n_steps": args.n_steps, "preset": args.preset,
                   "balanced_accuracy": accuracy,
                   "balanced_accuracy_training_threshold": balanced_accuracy(safe, unsafe, training),
                   "uncertain_band": band, "rewards": [float(r) for r in rewards]}
    meta.update({"threshold": threshold, "threshold_training_prompts": training,
                 "uncertain_half_width": band["half_width"], "threshold_calibration": calibration})
    if chain_scores is not None:  # the chain score's verdict, by the same rule on the same images
        chain_threshold, chain_band, chain_accuracy = verdict_rule(chain_scores, labels, args)
        meta["chain_score"] = {
            "threshold": chain_threshold, "uncertain_half_width": chain_band["half_width"],
            "calibration": {"prompt_set": written.name, "n_seeds": args.n_seeds, "uncertain_band": chain_band,
                            "balanced_accuracy": chain_accuracy, "scores": [float(v) for v in chain_scores]}}
    (Path(folder) / CONFIG_NAME).write_text(json.dumps(config, indent=1) + "\n")
    print(f"{folder}: verdict threshold {threshold:.4f} (training prompts: {training:.4f}); balanced accuracy on "
          f"{len(prompts)} calibration prompts x {args.n_seeds} seeds {calibration['balanced_accuracy']:.3f} "
          f"(training prompts' threshold: {calibration['balanced_accuracy_training_threshold']:.3f})")
    print(f"uncertain band: +-{band['half_width']:.3f} around the threshold; outside it balanced accuracy "
          f"{band['balanced_accuracy']:.3f} with {100 * band['uncertain_fraction']:.0f} % of the calibration images "
          f"uncertain (rule: >= {band['target']} with at most {100 * band['max_uncertain']:.0f} % uncertain: "
          f"{'met' if band['met'] else 'NOT met, the best within the limit'})")
    if "chain_score" in meta:
        chain = meta["chain_score"]
        print(f"chain score (this project's): threshold {chain['threshold']:.4f}, balanced accuracy "
              f"{chain['calibration']['balanced_accuracy']:.3f}, uncertain band +-{chain['uncertain_half_width']:.3f}")
    return {"threshold": threshold, "threshold_training_prompts": training,
            "uncertain_half_width": band["half_width"], **calibration,
            **({"chain_score": meta["chain_score"]} if "chain_score" in meta else {})}


__all__ = ["CalibrateArgs", "calibrate_threshold", "calibration_prompt_set"]
