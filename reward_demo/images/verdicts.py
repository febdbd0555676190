"""Verdicts on an image's reward: "safe", "unsafe", or "uncertain" inside a band around the threshold, the band's
half-width chosen on calibration prompts, how the verdicts agree with the labels a visitor gave, and the command
that calibrates threshold and band (``images calibrate-threshold``, ``calibrate_threshold``).

Why a band: the shipped reward puts most images within a few tenths of the threshold (the eight examples lie
between -4.5 and -2.6 around -4.012), so a verdict near it turns on the third decimal. Inside the band the
reward does not decide, and the verdict says so.

The verdict rules are pure functions (no torch), shared by the inference module, the CLI and the Images tab; the
calibration command imports the inference module only when it runs.

Calibration: ``train-reward`` picks the verdict threshold on its training prompts, whose images the reward was
fitted on: their rewards lie further apart than those of prompts it never saw, and they are grammar captions, not
what people type. ``calibrate-threshold`` scores the calibration prompts of the model's concept set instead
(``prompts.written_prompt_set(name, "calibration")``: ``CALIBRATION_PROMPTS`` for a v1 model and for a model of
unknown concept set, a Stable Diffusion model; the "calibration" split of the v2 prompts for a v2 model): prompts
written like the evaluation's but none of them, none a training caption, and none used by any evaluation or test. It
stores the threshold with the best balanced accuracy on them as the reward's ``threshold`` and keeps the training
prompts' one as ``threshold_training_prompts``. Only the verdict moves: (a), (b) and every reward stay as they were.

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
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

from ..options import ImageModelOption, PromptBatchOption, SamplerOptions
from .prompts import CALIBRATION_PROMPTS, WrittenPromptSet, written_prompt_set

SAFE, UNSAFE, UNCERTAIN = "safe", "unsafe", "uncertain"
#: the band's rule (``choose_half_width``): outside the band the verdict reaches this balanced accuracy on the
#: calibration images...
TARGET_BALANCED_ACCURACY = 0.9
#: ...while calling at most this fraction of them uncertain
MAX_UNCERTAIN_FRACTION = 0.5
#: half-widths are multiples of this (the threshold slider's step)
HALF_WIDTH_STEP = 0.001


def verdict(reward: float, threshold: float, half_width: float = 0.0) -> str:
    """"safe" when ``reward >= threshold + half_width``, "unsafe" when ``reward < threshold - half_width``,
    else "uncertain" (never with ``half_width == 0``: the plain threshold rule)."""
    reward, threshold, half_width = float(reward), float(threshold), float(half_width)
    if reward >= threshold + half_width:
        return SAFE
    if reward < threshold - half_width:
        return UNSAFE
    return UNCERTAIN


def decided_balanced_accuracy(safe_rewards: Sequence[float], unsafe_rewards: Sequence[float], threshold: float,
                              half_width: float) -> Tuple[float, float]:
    """(balanced accuracy of the decided verdicts, fraction of all images called uncertain). The accuracy is NaN
    when the band leaves no image of one of the two classes."""
    safe = [verdict(r, threshold, half_width) for r in safe_rewards]
    unsafe = [verdict(r, threshold, half_width) for r in unsafe_rewards]
    decided_safe = [v for v in safe if v != UNCERTAIN]
    decided_unsafe = [v for v in unsafe if v != UNCERTAIN]
    uncertain = 1.0 - (len(decided_safe) + len(decided_unsafe)) / max(1, len(safe) + len(unsafe))
    if not decided_safe or not decided_unsafe:
        return float("nan"), uncertain
    recall_safe = np.mean([v == SAFE for v in decided_safe])
    recall_unsafe = np.mean([v == UNSAFE for v in decided_unsafe])
    return float(0.5 * (recall_safe + recall_unsafe)), uncertain


def choose_half_width(safe_rewards: Sequence[float], unsafe_rewards: Sequence[float], threshold: float,
                      target: float = TARGET_BALANCED_ACCURACY,
                      max_uncertain: float = MAX_UNCERTAIN_FRACTION) -> dict:
    """The uncertainty band's half-width, chosen on labelled calibration images (never evaluation prompts).

    Rule: among half-widths h = 0, 0.001, 0.002, ... (up to the largest distance of a reward from the threshold),
    the smallest h whose decided verdicts (those outside the band) reach balanced accuracy >= ``target`` while at
    most ``max_uncertain`` of the images fall inside the band. When no h meets both, the smallest h with the
    highest balanced accuracy among those calling at most ``max_uncertain`` uncertain (``met`` is then False).

    Returns {"half_width", "balanced_accuracy" (decided images), "uncertain_fraction", "met", "target",
    "max_uncertain", "rule"}.
    """
    rewards = np.concatenate([np.asarray(safe_rewards, float), np.asarray(unsafe_rewards, float)])
    if not len(safe_rewards) or not len(unsafe_rewards) or not np.isfinite(rewards).all():
        raise ValueError("choosing the band needs finite rewards of safe and of unsafe calibration images")
    if not 0.0 < target <= 1.0 or not 0.0 <= max_uncertain < 1.0:
        raise ValueError(f"target must be in (0, 1] and max_uncertain in [0, 1), got {target} and {max_uncertain}")
    n_steps = int(np.ceil(np.abs(rewards - threshold).max() / HALF_WIDTH_STEP)) + 1
    best: Optional[dict] = None
    for k in range(n_steps + 1):
        half_width = round(k * HALF_WIDTH_STEP, 6)
        accuracy, uncertain = decided_balanced_accuracy(safe_rewards, unsafe_rewards, threshold, half_width)
        if uncertain > max_uncertain or not np.isfinite(accuracy):
            break  # the band only grows from here
        entry = {"half_width": half_width, "balanced_accuracy": accuracy, "uncertain_fraction": uncertain}
        if accuracy >= target:
            best = {**entry, "met": True}
            break
        if best is None or accuracy > best["balanced_accuracy"]:
            best = {**entry, "met": False}
    if best is None:  # not even h = 0 is allowed (max_uncertain < 0 is refused above): unreachable
        raise ValueError("no half-width meets the rule")
    return {**best, "target": target, "max_uncertain": max_uncertain, "rule": RULE_TEXT}


RULE_TEXT = ("the smallest half-width (a multiple of 0.001) such that, on the calibration images, the verdicts "
             "outside the band reach balanced accuracy >= target while at most max_uncertain of the images fall "
             "inside it; if none does, the smallest one with the highest balanced accuracy within max_uncertain")


def normal_label(label: Optional[str]) -> Optional[str]:
    """"safe" / "unsafe" from a visitor's label (any case, also "harmless" / "harmful"), else None."""
    text = (label or "").strip().lower()
    return {"safe": SAFE, "harmless": SAFE, "unsafe": UNSAFE, "harmful": UNSAFE}.get(text)


def label_agreement(labels: Iterable[Optional[str]], verdicts: Iterable[str]) -> Optional[dict]:
    """How verdicts agree with the labels given (None when no prompt has a safe / unsafe label).

    Returns {"n_labelled", "n_agree", "n_uncertain", "balanced_accuracy"}: the balanced accuracy is over the
    labelled prompts the verdict decided (None when those lack a class)."""
    pairs = [(normal_label(label), v) for label, v in zip(labels, verdicts)]
    pairs = [(label, v) for label, v in pairs if label is not None]
    if not pairs:
        return None
    decided = [(label, v) for label, v in pairs if v != UNCERTAIN]
    recalls = [np.mean([v == cls for label, v in decided if label == cls])
               for cls in (SAFE, UNSAFE) if any(label == cls for label, _ in decided)]
    return {"n_labelled": len(pairs), "n_agree": sum(label == v for label, v in pairs),
            "n_uncertain": len(pairs) - len(decided),
            "balanced_accuracy": float(np.mean(recalls)) if len(recalls) == 2 else None}


def agreement_text(agreement: Optional[dict], which: str = "the base image's verdict") -> str:
    """One line for the tab: "labels given for k prompts: ... agrees on j (balanced accuracy ...)"."""
    if agreement is None:
        return ""
    accuracy = agreement["balanced_accuracy"]
    decided = agreement["n_labelled"] - agreement["n_uncertain"]
    accuracy_text = (f"balanced accuracy {accuracy:.2f} on the {decided} it decided" if accuracy is not None
                     else "balanced accuracy needs decided safe and unsafe labels")
    uncertain = f", uncertain on {agreement['n_uncertain']}" if agreement["n_uncertain"] else ""
    return (
        f"labels given for {agreement['n_labelled']} prompts: {which} agrees on {agreement['n_agree']}"
        f"{uncertain} ({accuracy_text})"
    )


# --------------------------------------------------------------------------------------------------
# Calibrating a reward's threshold and band (``images calibrate-threshold``)


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


#: what a v1 calibration records as its ``prompts``: a fixed record, kept as stored (it was written before the v2
#: prompts existed, when this command had a module ``calibration`` of its own)
V1_PROMPTS_RECORD = "reward_demo.images.calibration.CALIBRATION_PROMPTS"


def calibration_prompt_set(model: Optional[str]) -> WrittenPromptSet:
    """The written calibration prompts of ``model``'s concept set (v1's for a model whose set is unknown)."""
    from .models import embedded_concept_set

    concepts = embedded_concept_set(model)
    return written_prompt_set(concepts.name if concepts is not None else None, "calibration")


def calibrate_threshold(args: CalibrateArgs) -> dict:
    """Score the calibration prompts' unguided images, store the best balanced-accuracy threshold and the uncertain
    band's half-width in the reward's config.json and return what was stored."""
    from ..checkpoint import CONFIG_NAME, read_config
    from ..metrics import balanced_accuracy, best_threshold
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
    else:
        rewards = np.array([s.base_reward for seed in range(args.n_seeds)
                            for s in score_prompts(prompts, seed=seed, n_steps=args.n_steps, preset=args.preset,
                                                   model=args.model, reward=str(folder), batch_size=args.batch_size)])
    labels = np.array([lab for _, lab in written.prompts] * args.n_seeds)
    if len(rewards) != len(labels):
        raise ValueError(f"{len(rewards)} stored calibration rewards for {len(labels)} images: run it again")
    safe, unsafe = rewards[labels == "safe"], rewards[labels == "unsafe"]
    training = float(meta.get("threshold_training_prompts", meta["threshold"]))
    threshold = best_threshold(safe, unsafe)
    band = choose_half_width(safe, unsafe, threshold, args.target_accuracy, args.max_uncertain)
    record = V1_PROMPTS_RECORD if written.name == "v1/calibration" else \
        f"reward_demo.images.prompts.written_prompt_set: {written.name}"
    calibration = {"prompts": record, "prompt_set": written.name, "n_prompts": len(prompts),
                   "n_seeds": args.n_seeds, "n_steps": args.n_steps, "preset": args.preset,
                   "balanced_accuracy": balanced_accuracy(safe, unsafe, threshold),
                   "balanced_accuracy_training_threshold": balanced_accuracy(safe, unsafe, training),
                   "uncertain_band": band, "rewards": [float(r) for r in rewards]}
    meta.update({"threshold": threshold, "threshold_training_prompts": training,
                 "uncertain_half_width": band["half_width"], "threshold_calibration": calibration})
    (Path(folder) / CONFIG_NAME).write_text(json.dumps(config, indent=1) + "\n")
    print(f"{folder}: verdict threshold {threshold:.4f} (training prompts: {training:.4f}); balanced accuracy on "
          f"{len(prompts)} calibration prompts x {args.n_seeds} seeds {calibration['balanced_accuracy']:.3f} "
          f"(training prompts' threshold: {calibration['balanced_accuracy_training_threshold']:.3f})")
    print(f"uncertain band: +-{band['half_width']:.3f} around the threshold; outside it balanced accuracy "
          f"{band['balanced_accuracy']:.3f} with {100 * band['uncertain_fraction']:.0f} % of the calibration images "
          f"uncertain (rule: >= {band['target']} with at most {100 * band['max_uncertain']:.0f} % uncertain: "
          f"{'met' if band['met'] else 'NOT met, the best within the limit'})")
    return {"threshold": threshold, "threshold_training_prompts": training,
            "uncertain_half_width": band["half_width"], **calibration}


__all__ = [
    "SAFE",
    "UNSAFE",
    "UNCERTAIN",
    "verdict",
    "choose_half_width",
    "decided_balanced_accuracy",
    "label_agreement",
    "agreement_text",
    "normal_label",
    "TARGET_BALANCED_ACCURACY",
    "MAX_UNCERTAIN_FRACTION",
    "CALIBRATION_PROMPTS",
    "CalibrateArgs",
    "calibrate_threshold",
    "calibration_prompt_set",
]
