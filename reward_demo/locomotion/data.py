"""The locomotion environments and their D4RL-style datasets: names, D4RL-normalised scores, the dataset format.

Datasets are compressed ``.npz`` files with the D4RL keys (observations, actions, rewards, next_observations,
terminals, timeouts): the medium-replay and expert data of each env under ``DATA_ROOT/<env>/`` (git-ignored; made by
``experts.py``), and a committed copy of the medium-replay data beside the shipped models. Within an episode
``next_observations`` repeats the next row of ``observations``, so a file keeps only the rows where it does not
(``save_dataset``); loading restores the full array bit for bit.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..options import LOCOMOTION_CHECKPOINTS as CHECKPOINT_ROOT
from ..options import LOCOMOTION_DATA as DATA_ROOT

#: short name -> (gymnasium id, D4RL reference random return, D4RL reference expert return)
ENVS: Dict[str, Tuple[str, float, float]] = {
    "hopper": ("Hopper-v5", -20.272, 3234.3),
    "halfcheetah": ("HalfCheetah-v5", -280.178953, 12135.0),
    "walker2d": ("Walker2d-v5", 1.629008, 4592.3),
}
DATASET_KEYS = ("observations", "actions", "rewards", "next_observations", "terminals", "timeouts")


def env_key(env_name: str) -> str:
    """Short name ('hopper', 'halfcheetah', 'walker2d') of a name such as 'Hopper-v5', 'hopper' or 'Walker2d'."""
    name = str(env_name).strip().lower()
    for key, (gym_id, _, _) in ENVS.items():
        if name in (key, gym_id.lower(), gym_id.lower().split("-")[0]):
            return key
    raise ValueError(f"unknown locomotion environment {env_name!r}; choose one of "
                     f"{', '.join(f'{k} ({v[0]})' for k, v in ENVS.items())}")


def gym_id(env_name: str) -> str:
    return ENVS[env_key(env_name)][0]


def normalized_score(env_name: str, episode_return: float) -> float:
    """D4RL-normalised score 100 * (R - R_random) / (R_expert - R_random) with the reference returns."""
    _, random_return, expert_return = ENVS[env_key(env_name)]
    return 100.0 * (float(episode_return) - random_return) / (expert_return - random_return)


def as_dataset(parts) -> Dict[str, np.ndarray]:
    """A dataset dict in the D4RL dtypes from lists (or arrays) of each key's values."""
    return {"observations": np.asarray(parts["observations"], dtype=np.float32),
            "actions": np.asarray(parts["actions"], dtype=np.float32),
            "rewards": np.asarray(parts["rewards"], dtype=np.float32).reshape(-1),
            "next_observations": np.asarray(parts["next_observations"], dtype=np.float32),
            "terminals": np.asarray(parts["terminals"], dtype=bool).reshape(-1),
            "timeouts": np.asarray(parts["timeouts"], dtype=bool).reshape(-1)}


def episode_returns(dataset: Dict[str, np.ndarray]) -> List[float]:
    """Returns of the complete episodes of a D4RL-style dataset (an episode ends at a terminal or a timeout)."""
    ends = np.flatnonzero(dataset["terminals"] | dataset["timeouts"])
    starts = np.concatenate([[0], ends[:-1] + 1]) if len(ends) else np.zeros(0, int)
    cumulative = np.concatenate([[0.0], np.cumsum(dataset["rewards"], dtype=np.float64)])
    return [float(cumulative[e + 1] - cumulative[s]) for s, e in zip(starts, ends)]


def dataset_summary(dataset: Dict[str, np.ndarray], env_name: str) -> dict:
    returns = episode_returns(dataset)
    mean = float(np.mean(returns)) if returns else float("nan")
    return {"transitions": int(len(dataset["rewards"])), "episodes": len(returns),
            "terminals": int(dataset["terminals"].sum()), "timeouts": int(dataset["timeouts"].sum()),
            "return_mean": mean, "return_std": float(np.std(returns)) if returns else float("nan"),
            "return_max": float(np.max(returns)) if returns else float("nan"),
            "normalized_score_mean": normalized_score(env_name, mean) if returns else float("nan")}


#: the compact form of ``next_observations`` in a file: the rows where it is not the next observation
NEXT_ROWS, NEXT_VALUES = "next_observations_rows", "next_observations_values"


def save_dataset(dataset: Dict[str, np.ndarray], path: Path, dtype=np.float32) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: (v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in dataset.items()}
    if "next_observations" in arrays and "observations" in arrays:
        following = _following_observations(arrays["observations"])
        nxt = arrays.pop("next_observations")
        rows = np.flatnonzero((nxt != following).any(axis=1))
        arrays[NEXT_ROWS], arrays[NEXT_VALUES] = rows, nxt[rows]
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def load_dataset(path: Path) -> Dict[str, np.ndarray]:
    """A D4RL-style dataset .npz (floats returned as float32), in the full form whichever form the file has."""
    with np.load(Path(path), allow_pickle=False) as data:
        dataset = {k: (data[k].astype(np.float32) if data[k].dtype.kind == "f" else data[k]) for k in data.files}
    if NEXT_ROWS in dataset:
        rows, values = dataset.pop(NEXT_ROWS), dataset.pop(NEXT_VALUES)
        nxt = _following_observations(dataset["observations"])
        nxt[rows] = values
        dataset["next_observations"] = nxt
    return dataset


def _following_observations(observations: np.ndarray) -> np.ndarray:
    """Row i + 1 of ``observations`` at row i (the last row: zeros, always stored)."""
    following = np.zeros_like(observations)
    following[:-1] = observations[1:]
    return following


def load_locomotion_dataset(env_name: str, kind: str, data_root: Optional[Path] = None,
                            checkpoint_root: Optional[Path] = None) -> Dict[str, np.ndarray]:
    """``kind`` 'medium_replay' or 'expert' of ``env_name``: from DATA_ROOT, else (medium_replay) the committed copy."""
    if kind not in ("medium_replay", "expert"):
        raise ValueError(f"kind must be 'medium_replay' or 'expert', got {kind!r}")
    key = env_key(env_name)
    candidates = [Path(data_root or DATA_ROOT) / key / f"{kind}.npz",
                  Path(checkpoint_root or CHECKPOINT_ROOT) / key / f"{kind}.npz"]
    for path in candidates:
        if path.is_file():
            return load_dataset(path)
    raise FileNotFoundError(f"no {kind} dataset for {key} in {' or '.join(map(str, candidates))}")
