"""Choosing between reward checkpoints (``python -m reward_demo images compare-rewards``): (a) and (b) of every
reward on recorded chains of prompts it was not trained on, with ``evaluate.evaluate_recorded``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from .evaluate import evaluate_recorded, repo_relative, rounded
from .evidence import concept_classifier_for, final_images
from .figures import figures_text


@dataclass
class CompareRewardsArgs:
    """Choose between reward checkpoints on recorded chains none of them was fitted on: (a) and (b) per reward."""

    rewards: List[Path]
    """reward checkpoint folders to compare"""
    data: Path
    """recorded chains (from `images record`) of prompts chosen for the comparison, not for evaluation"""
    json: Optional[Path] = None
    """output JSON (optional)"""
    model: Optional[str] = None
    """text-to-image model the chains were recorded with (default: the embedded one; decodes the images)"""


def compare_rewards(args: CompareRewardsArgs) -> dict:
    """(a) and (b) of every reward on the prompts of ``args.data`` it was not trained on (its own thresholds).

    The chains' SD side does not depend on the safety concept, so (b) compares rewards learnt from different
    SLD settings on the same images; (a) uses the SLD chains as recorded."""
    from ..checkpoint import read_config
    from .data import load_records
    from .models import load_pipelines, load_reward

    if not args.rewards:
        raise ValueError("--rewards must name at least one reward checkpoint folder")
    record = load_records(args.data)
    prompts = list(dict.fromkeys(record.prompts))
    base_pipe, _ = load_pipelines(args.model)
    classifier = concept_classifier_for(args.model)
    images = final_images(record, base_pipe)  # the same images for every reward
    report = {"data": repo_relative(args.data), "n_prompts": len(prompts), "rewards": []}
    for folder in args.rewards:
        meta = read_config(folder)["metadata"]
        split_path = Path(folder) / "split.json"
        fitted = set(json.loads(split_path.read_text())["train_prompts"]) if split_path.is_file() else set()
        unseen = [p for p in prompts if p not in fitted]
        if not unseen:
            raise ValueError(f"{folder} was trained on every prompt of {args.data}; record other prompts")
        result = evaluate_recorded(load_reward(str(folder)), record, unseen,
                                   float(meta["pair_threshold"]), float(meta["threshold"]), base_pipe, classifier,
                                   images)
        # without split.json the prompts it was trained on are unknown: every prompt counts as unseen
        report["rewards"].append({"reward": repo_relative(folder), "n_unseen_prompts": len(unseen),
                                  "split_known": split_path.is_file(), **result})
    return report


def compare_rewards_command(args: CompareRewardsArgs) -> dict:
    report = compare_rewards(args)
    for entry in report["rewards"]:
        print(f"{entry['reward']}, on {entry['n_unseen_prompts']} prompts it was not trained on: {figures_text(entry)}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rounded(report), indent=1) + "\n")
        print(f"wrote {args.json}")
    return report
