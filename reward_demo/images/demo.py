"""What the Images tab runs (``ImagesDemo``): the model and reward in use and the reward's stored threshold and
uncertain band, the verdict rule, loading (and cheaply checking) the models once, scoring through one queue that
batches concurrent requests, the files of scored runs, the precomputed examples, and how far the shipped
evaluation says a verdict can be trusted."""
from __future__ import annotations

import json
import math
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from . import examples as images_examples
from . import verdicts
from .batching import ScoringQueue
from .prompt_input import PromptItem

FALLBACK_PRESETS = ("weak", "medium", "strong", "max")
THRESHOLD_DIGITS = 3
EMBEDDED_MODEL = "embedded"  # pipelines.EMBEDDED (not imported from there, which loads diffusers)
RUN_MAX_AGE_S = 2 * 3600


def presets() -> Tuple[str, ...]:
    try:
        from .pipelines import SAFETY_PRESETS

        return tuple(SAFETY_PRESETS)
    except ImportError:  # pragma: no cover - diffusers missing
        return FALLBACK_PRESETS


def judge(half_width: float):
    """The verdict rule of a run: (reward, threshold) -> safe / unsafe / uncertain within ``half_width``."""
    return lambda reward, threshold: verdicts.verdict(reward, threshold, half_width)


@dataclass
class ImagesDemo:
    """What the Images tab calls, built once (``reward_demo.services.build_services``).

    ``model``: "embedded" or a diffusers folder / hub id (``pipelines.load_pipelines``); ``reward``: its reward
    checkpoint folder (None: the shipped one, which belongs to the embedded model); ``device``: the torch device
    (None: the default); ``runs_dir``: where scored runs and CSVs are written (the only images the tab serves, with
    the examples' copies); ``examples_dir``: the precomputed examples. The pipelines and the reward are loaded once
    per process (the scoring module caches them); ``queue`` batches concurrent scoring requests."""

    model: str = EMBEDDED_MODEL
    reward: Optional[Path] = None
    device: Optional[str] = None
    runs_dir: Path = images_examples.RUNS_DIR
    examples_dir: Path = images_examples.EXAMPLES_DIR
    queue: ScoringQueue = field(default=None, compare=False, repr=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.queue is None:
            self.queue = ScoringQueue(self._score_items)

    # ------------------------------------------------------------------ the model and its reward
    def reward_folder(self) -> Path:
        """The reward checkpoint in use (FileNotFoundError for a model other than the embedded one without its
        own reward, naming the commands that make one)."""
        return Path(self.reward) if self.reward else Path(images_examples.scoring().shipped_reward_folder(self.model))

    def default_threshold(self) -> float:
        """The threshold stored with the reward checkpoint in use (the scoring module's DEFAULT_THRESHOLD when
        there is none), rounded to THRESHOLD_DIGITS decimals (the slider's step)."""
        try:
            module = images_examples.scoring()
        except ImportError:  # pragma: no cover - diffusers missing
            return 0.0
        try:
            value = float(module.reward_threshold(str(self.reward_folder())))
        except (FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
            value = float(module.DEFAULT_THRESHOLD)
        return round(value, THRESHOLD_DIGITS) if math.isfinite(value) else 0.0

    def default_half_width(self) -> float:
        """Half-width of the reward's "uncertain" band around the threshold (``images calibrate-threshold``), 0
        when the reward in use stores none."""
        try:
            value = float(images_examples.scoring().reward_half_width(str(self.reward_folder())))
        except (ImportError, FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
            return 0.0
        return value if math.isfinite(value) and value >= 0 else 0.0

    def load_models(self) -> None:
        """Load the image pipelines and the reward once per process (later calls return at once); a missing model
        raises FileNotFoundError naming the command that trains it."""
        with self._load_lock:
            images_examples.scoring().load_reward(str(self.reward_folder()), self.device)
            from .pipelines import load_pipelines

            load_pipelines(self.model, self.device)

    def check_models(self) -> None:
        """Cheap check that the reward loads and the image model's files are there (the embedded model's weights
        load on the first scoring run, not when the app starts)."""
        images_examples.scoring().load_reward(str(self.reward_folder()), self.device)
        from .pipelines import EMBEDDED, resolve_model

        if resolve_model(self.model) == EMBEDDED:
            from .embedded import model as embedded_model

            embedded_model._check_folder(embedded_model.CHECKPOINT_DIR)

    def models_missing(self) -> Optional[str]:
        """None when the image models are there, else why not (shown in the tab instead of breaking the app)."""
        try:
            self.check_models()
        except FileNotFoundError as exc:
            return str(exc)
        except ImportError as exc:  # pragma: no cover - environment without diffusers
            return f"the image models' code is not importable ({exc})"
        return None

    def uses_embedded_model(self) -> bool:
        try:
            return bool(images_examples.scoring().is_embedded_model(self.model))
        except (ImportError, AttributeError, FileNotFoundError, ValueError):
            return False

    def vocabulary_markdown(self) -> str:
        """What the embedded model can draw: its concept set's whole vocabulary."""
        from .embedded.vocabulary import vocabulary_markdown

        return vocabulary_markdown(images_examples.scoring().model_concept_set(self.model))

    @staticmethod
    def token_limit() -> int:
        """Tokens of a prompt the embedded model's text encoder reads."""
        from .embedded.text_encoder import MAX_TOKENS

        return MAX_TOKENS

    # ------------------------------------------------------------------ scoring
    def _score_items(self, items, **settings) -> Dict:
        """``examples.score_items`` with this reward and device (the queue's scorer)."""
        return images_examples.score_items(items, reward=str(self.reward_folder()), device=self.device, **settings)

    def score(self, items: List[PromptItem], *, seed: int, n_steps: int, preset: str, guidance_scale: float,
              report: Optional[Callable[[Dict], None]] = None) -> Dict:
        """Score ``items`` through the queue (batched with concurrent requests of the same settings); the results
        with their images saved under ``runs_dir`` (older runs pruned). ``report(status)`` while it waits and runs
        (``ScoringQueue.status``)."""
        job = self.queue.submit(items, seed=seed, n_steps=n_steps, preset=preset, guidance_scale=guidance_scale,
                                model=self.model)
        results = self.queue.wait(job, report)
        self.prune_runs()
        return images_examples.save_images(results, self.runs_dir / uuid.uuid4().hex[:12])

    # ------------------------------------------------------------------ files
    def download_folder(self) -> Path:
        """A fresh folder for one download."""
        folder = self.runs_dir / "downloads" / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def served_image(self, path) -> bool:
        """Only images the tab wrote itself are shown: a results JSON sent through the API must not make the
        server hand out other files."""
        try:
            resolved = Path(path).resolve()
            folders = {Path(self.runs_dir).resolve(), images_examples.RUNS_DIR.resolve()}
            return resolved.suffix == ".png" and resolved.is_file() and any(f in resolved.parents for f in folders)
        except (OSError, TypeError, ValueError):
            return False

    def prune_runs(self, max_age_s: float = RUN_MAX_AGE_S) -> None:
        """Delete the images and CSVs of runs older than ``max_age_s`` (Gradio keeps its own copies for an
        hour)."""
        cutoff = time.time() - max_age_s
        runs = Path(self.runs_dir)
        for folder in [*runs.glob("[0-9a-f]" * 12), *(runs / "downloads").glob("[0-9a-f]" * 12)]:
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass

    # ------------------------------------------------------------------ the precomputed examples
    def examples_available(self) -> bool:
        return (Path(self.examples_dir) / images_examples.EXAMPLES_FILE).is_file()

    def load_examples(self) -> Dict:
        """The precomputed examples (``examples.load_examples``: shared, do not modify)."""
        return images_examples.load_examples(self.examples_dir)

    def example_rows(self) -> Optional[List[Dict]]:
        """The examples' rows, None without (readable) examples."""
        if not self.examples_available():
            return None
        try:
            return self.load_examples()["rows"]
        except (ValueError, FileNotFoundError, KeyError, TypeError):
            return None

    # ------------------------------------------------------------------ the shipped evaluation
    def evaluation_summary(self) -> Optional[str]:
        """How the reward in use did on held-out prompts, from the shipped evaluation report (``images
        evaluate``), when the tab runs the model and reward that report is about; None otherwise (another model or
        reward, or no report)."""
        try:
            from .evaluate import EVAL_JSON, ROOT
            from .pipelines import resolve_model

            report = json.loads(EVAL_JSON.read_text())
            in_use = self.reward_folder().resolve()
            if report["model"] != resolve_model(self.model) or (ROOT / report["reward"]).resolve() != in_use:
                return None
            novel = report["heldout_novel_prompts"]
            return (f"**How far to trust a verdict:** on {novel['n_prompts']} held-out prompts written for the "
                    f"evaluation ({novel['n']} images), the reward ranks the unguided image of a safe prompt above "
                    f"that of an unsafe one with probability {novel['b_prompt_auroc']:.2f} (AUROC), the verdict at "
                    f"the default threshold is right with balanced accuracy "
                    f"{novel['b_verdict_balanced_accuracy']:.2f}, and safety guidance raised the reward in "
                    f"{100 * novel['a_pairwise_accuracy']:.0f} % of the prompt-seed pairs (docs/images.md, Results)."
                    f"{self.band_summary(report)}")
        except (ImportError, OSError, KeyError, TypeError, ValueError):
            return None

    def band_summary(self, report: Dict) -> str:
        """" Within +-h of the threshold the verdict is uncertain ..." with what the band does on the report's
        held-out written prompts (the band was chosen on the calibration prompts); "" without a band."""
        half_width = self.default_half_width()
        rows = [row for row in report.get("rows", []) if row.get("label") in ("safe", "unsafe")]
        if half_width <= 0 or not rows:
            return ""
        rewards = {label: [row["base_reward"] for row in rows if row["label"] == label] for label in ("safe", "unsafe")}
        accuracy, uncertain = verdicts.decided_balanced_accuracy(rewards["safe"], rewards["unsafe"],
                                                                 self.default_threshold(), half_width)
        return (f" Within {half_width:g} of the threshold the verdict is *uncertain* (a band chosen on calibration "
                f"prompts): on those held-out prompts it leaves {100 * uncertain:.0f} % of the images uncertain, "
                f"and the other verdicts are right with balanced accuracy {accuracy:.2f}.")
