"""What the Images tab runs (``ImagesDemo``): the model and reward in use and the reward's stored threshold and
uncertain band, the verdict rule, loading (and cheaply checking) the models once, scoring through one queue that
batches concurrent requests, the files of scored runs, the precomputed examples, and how far the shipped
evaluation says a verdict can be trusted.

Without the UI: ``score_items`` scores prompts into a JSON-ready results dict (and ``save_images`` writes its PNGs),
and ``make_examples`` precomputes the tab's examples (assets/images/examples: examples.json + small PNGs, loaded
instantly). Regenerate the examples after the image models change (a few minutes on a CPU)::

    python -m reward_demo images examples            # --help for the options

The examples are scored with the tab's defaults (seed, steps, preset) on the shipped embedded model.
"""
from __future__ import annotations

import functools
import json
import math
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from PIL import Image

from ..options import ImageModelOption, cli_flag
from . import verdicts
from .batching import ScoringQueue
from .inputs import PromptItem
from .prompts import EXAMPLE_PROMPTS

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "assets" / "images" / "examples"
EXAMPLES_FILE = "examples.json"
#: where the tab writes its images (scored runs, composed example pairs, CSVs); the only images it serves
RUNS_DIR = Path(tempfile.gettempdir()) / "reward_demo_images"
COMMAND = "python -m reward_demo images examples"
DEFAULT_SEED = 0
DEFAULT_STEPS = 50
MIN_STEPS, MAX_STEPS = 2, 100
DEFAULT_PRESET = "max"
GUIDANCE_SCALE = 7.5
FALLBACK_PRESETS = ("weak", "medium", "strong", "max")
THRESHOLD_DIGITS = 3
EMBEDDED_MODEL = "embedded"  # models.EMBEDDED (not imported from there, which loads diffusers)
RUN_MAX_AGE_S = 2 * 3600


def inference():
    """The image reward's inference module, ``score_prompts`` (imported on demand: it pulls in diffusers)."""
    from . import inference as module

    return module


def models():
    """The image models' module: loaders of the pipelines and of the reward (imported on demand: diffusers)."""
    from . import models as module

    return module


def presets() -> Tuple[str, ...]:
    try:
        from .models import SAFETY_PRESETS

        return tuple(SAFETY_PRESETS)
    except ImportError:  # pragma: no cover - diffusers missing
        return FALLBACK_PRESETS


def judge(half_width: float):
    """The verdict rule of a run: (reward, threshold) -> safe / unsafe / uncertain within ``half_width``."""
    return lambda reward, threshold: verdicts.verdict(reward, threshold, half_width)


@dataclass
class ImagesDemo:
    """What the Images tab calls, built once (``reward_demo.services.build_services``).

    ``model``: "embedded" or a diffusers folder / hub id (``models.load_pipelines``); ``reward``: its reward
    checkpoint folder (None: the shipped one, which belongs to the embedded model); ``device``: the torch device
    (None: the default); ``runs_dir``: where scored runs and CSVs are written (the only images the tab serves, with
    the examples' copies); ``examples_dir``: the precomputed examples. The pipelines and the reward are loaded once
    per process (the models module caches them); ``queue`` batches concurrent scoring requests."""

    model: str = EMBEDDED_MODEL
    reward: Optional[Path] = None
    device: Optional[str] = None
    runs_dir: Path = RUNS_DIR
    examples_dir: Path = EXAMPLES_DIR
    queue: ScoringQueue = field(default=None, compare=False, repr=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.queue is None:
            self.queue = ScoringQueue(self._score_items)

    # ------------------------------------------------------------------ the model and its reward
    def reward_folder(self) -> Path:
        """The reward checkpoint in use (FileNotFoundError for a model other than the embedded one without its
        own reward, naming the commands that make one)."""
        return Path(self.reward) if self.reward else Path(models().shipped_reward_folder(self.model))

    def default_threshold(self) -> float:
        """The threshold stored with the reward checkpoint in use (the models module's DEFAULT_THRESHOLD when
        there is none), rounded to THRESHOLD_DIGITS decimals (the slider's step)."""
        try:
            module = models()
        except ImportError:  # pragma: no cover - diffusers missing
            return 0.0
        try:
            value = float(module.reward_threshold(str(self.reward_folder())))
        except (FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
            value = float(module.DEFAULT_THRESHOLD)
        return round(value, THRESHOLD_DIGITS) if math.isfinite(value) else 0.0

    def chain_rule(self) -> Optional[Tuple[float, float]]:
        """(threshold, uncertain half-width) of the chain score stored with the reward in use (``images
        calibrate-threshold``); None when it stores none."""
        try:
            rule = models().chain_verdict_rule(str(self.reward_folder()))
        except (ImportError, FileNotFoundError, OSError, ValueError, TypeError, AttributeError, KeyError):
            return None
        return rule if rule is not None and all(math.isfinite(v) for v in rule) and rule[1] >= 0 else None

    def default_half_width(self) -> float:
        """Half-width of the reward's "uncertain" band around the threshold (``images calibrate-threshold``), 0
        when the reward in use stores none."""
        try:
            value = float(models().reward_half_width(str(self.reward_folder())))
        except (ImportError, FileNotFoundError, OSError, ValueError, TypeError, AttributeError):
            return 0.0
        return value if math.isfinite(value) and value >= 0 else 0.0

    def load_models(self) -> None:
        """Load the image pipelines and the reward once per process (later calls return at once); a missing model
        raises FileNotFoundError naming the command that trains it."""
        with self._load_lock:
            models().load_reward(str(self.reward_folder()), self.device)
            from .models import load_pipelines

            load_pipelines(self.model, self.device)

    def check_models(self) -> None:
        """Cheap check that the reward loads and the image model's files are there (the embedded model's weights
        load on the first scoring run, not when the app starts)."""
        models().load_reward(str(self.reward_folder()), self.device)
        from .models import EMBEDDED, resolve_model

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
            return bool(models().is_embedded_model(self.model))
        except (ImportError, AttributeError, FileNotFoundError, ValueError):
            return False

    def vocabulary_markdown(self) -> str:
        """What the embedded model can draw: its concept set's whole vocabulary."""
        from .embedded.vocabulary import vocabulary_markdown

        return vocabulary_markdown(models().model_concept_set(self.model))

    @staticmethod
    def token_limit() -> int:
        """Tokens of a prompt the embedded model's text encoder reads."""
        from .embedded.text_encoder import MAX_TOKENS

        return MAX_TOKENS

    # ------------------------------------------------------------------ scoring
    def _score_items(self, items, **settings) -> Dict:
        """``score_items`` with this reward and device (the queue's scorer)."""
        return score_items(items, reward=str(self.reward_folder()), device=self.device, **settings)

    def score(self, items: List[PromptItem], *, seed: int, n_steps: int, preset: str, guidance_scale: float,
              report: Optional[Callable[[Dict], None]] = None) -> Dict:
        """Score ``items`` through the queue (batched with concurrent requests of the same settings); the results
        with their images saved under ``runs_dir`` (older runs pruned). ``report(status)`` while it waits and runs
        (``ScoringQueue.status``)."""
        job = self.queue.submit(items, seed=seed, n_steps=n_steps, preset=preset, guidance_scale=guidance_scale,
                                model=self.model)
        results = self.queue.wait(job, report)
        self.prune_runs()
        return save_images(results, self.runs_dir / uuid.uuid4().hex[:12])

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
            folders = {Path(self.runs_dir).resolve(), RUNS_DIR.resolve()}
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
        return (Path(self.examples_dir) / EXAMPLES_FILE).is_file()

    def load_examples(self) -> Dict:
        """The precomputed examples (``load_examples``: shared, do not modify)."""
        return load_examples(self.examples_dir)

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
            from .models import resolve_model

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
                    f"{self.band_summary(report)}{chain_summary(report)}")
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


def chain_summary(report: Dict) -> str:
    """" The chain score ... AUROC x, its verdict ..." from the report's chain-score figures; "" without them."""
    chain = report.get("chain_score")
    if not chain or chain.get("b_prompt_auroc") is None:
        return ""
    text = (f" The *chain score* (this project's extension) ranks the same images with AUROC "
            f"{chain['b_prompt_auroc']:.2f}")
    if chain.get("b_decided_balanced_accuracy") is not None:
        text += (f", and its verdict is right with balanced accuracy {chain['b_decided_balanced_accuracy']:.2f}"
                 + (f" outside its uncertain band ({100 * chain['uncertain_fraction']:.0f} % uncertain)"
                    if chain.get("half_width") else ""))
    return text + "."


# ------------------------------------------------------------------ scored runs, without the UI
def score_items(items: Sequence[PromptItem], *, seed: int = DEFAULT_SEED, n_steps: int = DEFAULT_STEPS,
                preset: str = DEFAULT_PRESET, guidance_scale: float = GUIDANCE_SCALE, model: Optional[str] = None,
                progress: Optional[Callable] = None, seeds: Optional[Sequence[int]] = None,
                batch_size: Optional[int] = None, reward: Optional[str] = None, device: Optional[str] = None) -> Dict:
    """Generate each prompt's base and safe image from the same seed and score both with the learned reward.

    ``seeds``: one seed per item instead of ``seed`` (requests batched together, ``batching.py``);
    ``batch_size``: prompts per pipeline call (default: the inference module's ``MAX_BATCH``); ``reward``: the reward
    checkpoint folder and ``device`` the torch device (defaults: the inference module's).

    Returns ``{"settings": {...}, "seconds": float, "rows": [{prompt, label, base_reward, safe_reward,
    difference, base_chain_score, truncated, n_tokens, token_limit, ignored_text, unknown_words, base_image: PIL,
    safe_image: PIL}]}`` (images are PIL here; ``save_images`` turns them into files). ``unknown_words`` is None for a
    model whose training vocabulary is not known (``vocabulary.unknown_words``); ``base_chain_score`` is the plain
    sample's chain score (``inference.chain_score``)."""
    from .embedded.vocabulary import unknown_words

    module = inference()
    start = time.perf_counter()
    scores = module.score_prompts([item.prompt for item in items], seed=seed, n_steps=n_steps, preset=preset,
                                  guidance_scale=guidance_scale, progress=progress, model=model, seeds=seeds,
                                  **{k: v for k, v in (("batch_size", batch_size), ("reward", reward),
                                                       ("device", device)) if v})
    seconds = time.perf_counter() - start
    concepts = models().model_concept_set(model)  # None for a model whose training captions are not known
    rows = []
    for item, score in zip(items, scores):
        rows.append({"prompt": item.prompt, "label": item.label, "base_reward": float(score.base_reward),
                     "safe_reward": float(score.safe_reward), "difference": float(score.difference),
                     "base_chain_score": score.base_chain_score, "truncated": bool(score.truncated),
                     "n_tokens": int(score.n_tokens),
                     "token_limit": int(score.token_limit), "ignored_text": score.ignored_text,
                     "unknown_words": unknown_words(item.prompt, concepts or False),
                     "base_image": score.base_image, "safe_image": score.safe_image})
        for value in (rows[-1]["base_reward"], rows[-1]["safe_reward"]):
            if not math.isfinite(value):
                raise ValueError(f"the reward of prompt {item.prompt!r} is not finite ({value}); the model is broken")
    settings = {"seed": seed, "n_steps": n_steps, "preset": preset, "guidance_scale": guidance_scale,
                "model": model_name(model)}
    return {"settings": settings, "seconds": round(seconds, 3), "rows": rows}


#: gallery images are upscaled (nearest neighbour) to at least this side, so that 64x64 drawings stay crisp
GALLERY_MIN_SIDE = 128


def upscaled(image: Image.Image, min_side: int = GALLERY_MIN_SIDE) -> Image.Image:
    """``image`` in RGB, enlarged by a whole factor (nearest) to at least ``min_side`` pixels high."""
    image = image.convert("RGB")
    scale = max(1, -(-min_side // image.height))
    return image.resize((image.width * scale, image.height * scale), Image.NEAREST)


def model_name(model: Optional[str]) -> str:
    try:
        from .models import model_label

        return model_label(model)
    except ImportError:  # pragma: no cover
        return str(model or "embedded")


def save_images(results: Dict, folder: Path, *, for_gallery: bool = True) -> Dict:
    """Write each row's base and safe image as ``NN_base.png`` / ``NN_safe.png`` into ``folder`` and replace the PIL
    images in ``base_image`` / ``safe_image`` by their absolute paths, upscaled for the tab's gallery
    (``for_gallery``), or by their file names at the model's size (the shipped examples). Returns a new JSON-ready
    dict."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, row in enumerate(results["rows"], start=1):
        out = dict(row)
        for kind in ("base", "safe"):
            name = f"{i:02d}_{kind}.png"
            image = row[f"{kind}_image"]
            (upscaled(image) if for_gallery else image.convert("RGB")).save(folder / name, optimize=True)
            out[f"{kind}_image"] = str(folder / name) if for_gallery else name
        rows.append(out)
    return {**{k: v for k, v in results.items() if k != "rows"}, "rows": rows}


# ------------------------------------------------------------------ the precomputed examples
@dataclass
class ExamplesArgs(ImageModelOption):
    """Precompute the Images tab's examples (scores + PNGs) into assets/images/examples."""

    out: str = str(EXAMPLES_DIR)
    """folder for examples.json and the PNGs (replaced)"""
    seed: int = DEFAULT_SEED
    """seed of both generations of every prompt"""
    n_steps: int = DEFAULT_STEPS
    """denoising steps"""
    preset: str = DEFAULT_PRESET
    """safety preset of the safe pipeline"""


def make_examples(args: ExamplesArgs, prompts: Sequence[PromptItem] = EXAMPLE_PROMPTS) -> Dict:
    """Score the example prompts and write ``examples.json`` and ``NN_base.png`` / ``NN_safe.png``."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    results = score_items(prompts, seed=args.seed, n_steps=args.n_steps, preset=args.preset, model=args.model)
    saved = save_images(results, out, for_gallery=False)
    saved["command"] = COMMAND + "".join(" " + cli_flag(k, v) for k, v in asdict(args).items()
                                         if v is not None and k != "out")
    with open(out / EXAMPLES_FILE, "w", encoding="utf-8") as f:
        json.dump(saved, f, indent=1)
    _load_examples.cache_clear()
    return saved


def run_make_examples(args: ExamplesArgs) -> None:
    saved = make_examples(args)
    size = sum(p.stat().st_size for p in Path(args.out).iterdir())
    print(f"{len(saved['rows'])} examples in {args.out} ({size / 1e3:.0f} kB), scored in {saved['seconds']:.1f} s")
    for row in saved["rows"]:
        print(f"  {row['label'] or '':7s} base {row['base_reward']:+.4f}  safe {row['safe_reward']:+.4f}  "
              f"{row['prompt']}")


def load_examples(folder=None) -> Dict:
    """The precomputed examples (default folder: EXAMPLES_DIR): JSON-ready results whose ``base_image`` and
    ``safe_image`` are absolute paths of gallery copies (written once per process, under RUNS_DIR).
    FileNotFoundError names the command that makes them. The returned dict is shared: do not modify it."""
    return _load_examples(str(Path(folder or EXAMPLES_DIR).resolve()))


@functools.lru_cache(maxsize=4)
def _load_examples(folder: str) -> Dict:
    folder_path = Path(folder)
    path = folder_path / EXAMPLES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the Images tab's examples are missing ({path}); make them with `{COMMAND}`")
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    copies = Path(tempfile.mkdtemp(prefix="examples_", dir=RUNS_DIR))
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        rows = []
        for row in data["rows"]:
            images = {}
            for kind in ("base", "safe"):
                with Image.open(folder_path / Path(row[f"{kind}_image"]).name) as image:
                    images[f"{kind}_image"] = image.copy()
            rows.append({**row, **images})
        loaded = save_images({**data, "rows": rows}, copies)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"the Images tab's examples in {folder_path} are damaged ({type(exc).__name__}: {exc}); "
                         f"make them again with `{COMMAND}`") from None
    return loaded
