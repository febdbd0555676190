"""What the Images tab runs besides scoring itself: the reward in use and its stored threshold and uncertain
band, the verdict rule, loading (and cheaply checking) the models once, and how far the shipped evaluation
says a verdict can be trusted."""
from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Dict, Optional, Tuple

from . import examples as images_examples
from . import verdicts

FALLBACK_PRESETS = ("weak", "medium", "strong", "max")
THRESHOLD_DIGITS = 3


def presets() -> Tuple[str, ...]:
    try:
        from .pipelines import SAFETY_PRESETS

        return tuple(SAFETY_PRESETS)
    except ImportError:  # pragma: no cover - diffusers missing
        return FALLBACK_PRESETS


def default_threshold() -> float:
    """The threshold stored with the reward checkpoint in use (the scoring module's DEFAULT_THRESHOLD when there
    is none), rounded to THRESHOLD_DIGITS decimals (the slider's step)."""
    try:
        module = images_examples.scoring()
    except ImportError:  # pragma: no cover - diffusers missing
        return 0.0
    try:
        value = float(module.reward_threshold(str(module.reward_folder())))
    except (FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
        value = float(module.DEFAULT_THRESHOLD)
    return round(value, THRESHOLD_DIGITS) if math.isfinite(value) else 0.0


def default_half_width() -> float:
    """Half-width of the reward's "uncertain" band around the threshold (``images calibrate-threshold``), 0 when
    the reward in use stores none."""
    try:
        module = images_examples.scoring()
        value = float(module.reward_half_width(str(module.reward_folder())))
    except (ImportError, FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
        return 0.0
    return value if math.isfinite(value) and value >= 0 else 0.0


def judge(half_width: float):
    """The verdict rule of a run: (reward, threshold) -> safe / unsafe / uncertain within ``half_width``."""
    return lambda reward, threshold: verdicts.verdict(reward, threshold, half_width)


_LOAD_LOCK = threading.Lock()


def load_models() -> None:
    """Load the image pipelines and the reward once per process (later calls return at once); a missing model
    raises FileNotFoundError naming the command that trains it."""
    with _LOAD_LOCK:
        module = images_examples.scoring()
        module.load_reward(str(module.reward_folder()))
        from .pipelines import load_pipelines

        load_pipelines()


def check_models() -> None:
    """Cheap check that the reward loads and the image model's files are there (the embedded model's weights
    load on the first scoring run, not when the app starts)."""
    module = images_examples.scoring()
    module.load_reward(str(module.reward_folder()))
    from .pipelines import EMBEDDED, resolve_model

    if resolve_model() == EMBEDDED:
        from .embedded import model as embedded_model

        embedded_model._check_folder(embedded_model.CHECKPOINT_DIR)


def evaluation_summary() -> Optional[str]:
    """How the reward in use did on held-out prompts, from the shipped evaluation report (``images evaluate``),
    when the tab runs the model and reward that report is about; None otherwise (another model or reward, or
    no report)."""
    try:
        from .evaluate import EVAL_JSON, ROOT
        from .pipelines import resolve_model

        report = json.loads(EVAL_JSON.read_text())
        in_use = Path(images_examples.scoring().reward_folder()).resolve()
        if report["model"] != resolve_model() or (ROOT / report["reward"]).resolve() != in_use:
            return None
        novel = report["heldout_novel_prompts"]
        return (f"**How far to trust a verdict:** on {novel['n_prompts']} held-out prompts written for the evaluation "
                f"({novel['n']} images), the reward ranks the unguided image of a safe prompt above that of an unsafe "
                f"one with probability {novel['b_prompt_auroc']:.2f} (AUROC), the verdict at the default threshold "
                f"is right with balanced accuracy {novel['b_verdict_balanced_accuracy']:.2f}, and safety guidance "
                f"raised the reward in {100 * novel['a_pairwise_accuracy']:.0f} % of the prompt-seed pairs "
                f"(docs/images.md, Results).{band_summary(report)}")
    except (ImportError, OSError, KeyError, TypeError, ValueError):
        return None


def band_summary(report: Dict) -> str:
    """" Within +-h of the threshold the verdict is uncertain ..." with what the band does on the report's held-out
    written prompts (the band was chosen on the calibration prompts); "" without a band."""
    half_width = default_half_width()
    rows = [row for row in report.get("rows", []) if row.get("label") in ("safe", "unsafe")]
    if half_width <= 0 or not rows:
        return ""
    rewards = {label: [row["base_reward"] for row in rows if row["label"] == label] for label in ("safe", "unsafe")}
    accuracy, uncertain = verdicts.decided_balanced_accuracy(rewards["safe"], rewards["unsafe"], default_threshold(),
                                                             half_width)
    return (f" Within {half_width:g} of the threshold the verdict is *uncertain* (a band chosen on calibration "
            f"prompts): on those held-out prompts it leaves {100 * uncertain:.0f} % of the images uncertain, and "
            f"the other verdicts are right with balanced accuracy {accuracy:.2f}.")


def models_missing() -> Optional[str]:
    """None when the image models are there, else why not (shown in the tab instead of breaking the app)."""
    try:
        check_models()
    except FileNotFoundError as exc:
        return str(exc)
    except ImportError as exc:  # pragma: no cover - environment without diffusers
        return f"the image models' code is not importable ({exc})"
    return None
