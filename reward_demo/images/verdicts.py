"""Verdicts on an image's reward: "safe", "unsafe", or "uncertain" inside a band around the threshold, the band's
half-width chosen on calibration prompts (``choose_half_width``; the command that runs it is ``calibration.py``), and
how the verdicts agree with the labels a visitor gave.

Why a band: the shipped reward puts most images within a few tenths of the threshold (v1's eight examples lay
between -4.5 and -2.6 around -4.012), so a verdict near it turns on the third decimal. Inside the band the
reward does not decide, and the verdict says so.

The verdict rules are pure functions (no torch), shared by the inference module, the CLI and the Images tab.

"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

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
]
