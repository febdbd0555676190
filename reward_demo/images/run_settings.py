"""The settings of a scoring run as a visitor gives them (seed, denoising steps, safety preset, threshold), checked.

One check per input. Each takes the raw value (a number, a numeric string, or anything a client sends) and
raises ``ValueError`` whose message starts with the input's label as the Images tab shows it and says what is
allowed, so the same message serves the tab, its API and the tests.
"""
from __future__ import annotations

import math
from typing import Sequence

SEED_LABEL = "Seed"
STEPS_LABEL = "Denoising steps"
PRESET_LABEL = "Safety guidance preset (SLD)"
THRESHOLD_LABEL = "Threshold"
MAX_SEED = 2 ** 32 - 1


def _number(value) -> float:
    if isinstance(value, bool):
        return float("nan")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, AttributeError):
        return float("nan")


def check_seed(seed, label: str = SEED_LABEL) -> int:
    value = _number(seed)
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"{label}: must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(value)


def check_steps(n_steps, low: int, high: int, label: str = STEPS_LABEL) -> int:
    value = _number(n_steps)
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise ValueError(f"{label}: must be a whole number from {low} to {high}, got {n_steps!r}")
    return int(value)


def check_preset(preset, choices: Sequence[str], label: str = PRESET_LABEL) -> str:
    name = preset.strip().lower() if isinstance(preset, str) else None
    if name not in choices:
        raise ValueError(f"{label}: {preset!r} is not a preset; choose one of {', '.join(choices)}")
    return name


def check_threshold(threshold, low: float, high: float, label: str = THRESHOLD_LABEL) -> float:
    value = _number(threshold)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{label}: must be a number from {low:g} to {high:g}, got {threshold!r}")
    return value


__all__ = ["check_seed", "check_steps", "check_preset", "check_threshold", "SEED_LABEL", "STEPS_LABEL",
           "PRESET_LABEL", "THRESHOLD_LABEL", "MAX_SEED"]
