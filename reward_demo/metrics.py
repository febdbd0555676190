"""Figures the evaluations share: AUROC, balanced accuracy and its best threshold, a bootstrap confidence interval."""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
from scipy.stats import rankdata


def auroc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U); NaN if a class is empty."""
    positive, negative = np.asarray(positive, float).ravel(), np.asarray(negative, float).ravel()
    n_pos, n_neg = len(positive), len(negative)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([positive, negative]))
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def balanced_accuracy(positive: Sequence[float], negative: Sequence[float], threshold: float) -> float:
    """Mean of the two recalls when ``score >= threshold`` predicts the positive class."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    return float(0.5 * ((positive >= threshold).mean() + (negative < threshold).mean()))


def best_threshold(positive: Sequence[float], negative: Sequence[float]) -> float:
    """The threshold maximising balanced accuracy (midpoint between neighbouring scores)."""
    values = np.unique(np.concatenate([np.asarray(positive, float), np.asarray(negative, float)]))
    if len(values) == 1:
        return float(values[0])
    candidates = np.concatenate([[values[0] - 1e-6], (values[1:] + values[:-1]) / 2, [values[-1] + 1e-6]])
    accuracies = [balanced_accuracy(positive, negative, c) for c in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def _interval(samples: np.ndarray, level: float) -> Tuple[float, float]:
    alpha = (1 - level) / 2
    return float(np.quantile(samples, alpha)), float(np.quantile(samples, 1 - alpha))


def bootstrap_ci(values: Sequence[float], n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> Tuple[float, float]:
    """Percentile bootstrap CI of the mean of independent values; NaN with fewer than two."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    return _interval(values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(axis=1), level)


__all__ = ["auroc", "balanced_accuracy", "best_threshold", "bootstrap_ci"]
