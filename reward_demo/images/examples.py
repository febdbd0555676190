"""Scored runs of the Images tab, without the UI: score prompts into a JSON-ready results dict (and PNGs),
and the tab's precomputed examples (assets/images/examples: examples.json + small PNGs, loaded instantly).

Regenerate the examples after the image models change (a few minutes on a CPU)::

    python -m reward_demo images examples            # --help for the options

The examples are scored with the tab's defaults (seed, steps, preset) on the shipped embedded model.
"""
from __future__ import annotations

import functools
import json
import math
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

from PIL import Image

from ..options import ImageModelOption, cli_flag
from .prompt_input import PromptItem
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


def scoring():
    """The image reward's scoring module (imported on demand: it pulls in diffusers)."""
    from . import scoring as module

    return module


def score_items(items: Sequence[PromptItem], *, seed: int = DEFAULT_SEED, n_steps: int = DEFAULT_STEPS,
                preset: str = DEFAULT_PRESET, guidance_scale: float = GUIDANCE_SCALE, model: Optional[str] = None,
                progress: Optional[Callable] = None, seeds: Optional[Sequence[int]] = None,
                batch_size: Optional[int] = None, reward: Optional[str] = None, device: Optional[str] = None) -> Dict:
    """Generate each prompt's base and safe image from the same seed and score both with the learned reward.

    ``seeds``: one seed per item instead of ``seed`` (requests batched together, ``batching.py``);
    ``batch_size``: prompts per pipeline call (default: the scoring module's ``MAX_BATCH``); ``reward``: the reward
    checkpoint folder and ``device`` the torch device (defaults: the scoring module's).

    Returns ``{"settings": {...}, "seconds": float, "rows": [{prompt, label, base_reward, safe_reward,
    difference, truncated, n_tokens, token_limit, ignored_text, unknown_words, base_image: PIL, safe_image:
    PIL}]}`` (images are PIL here; ``save_images`` turns them into files). ``unknown_words`` is None for a model
    whose training vocabulary is not known (``vocabulary.unknown_words``)."""
    from .embedded.vocabulary import unknown_words

    module = scoring()
    start = time.perf_counter()
    scores = module.score_prompts([item.prompt for item in items], seed=seed, n_steps=n_steps, preset=preset,
                                  guidance_scale=guidance_scale, progress=progress, model=model, seeds=seeds,
                                  **{k: v for k, v in (("batch_size", batch_size), ("reward", reward),
                                                       ("device", device)) if v})
    seconds = time.perf_counter() - start
    concepts = module.model_concept_set(model)  # None for a model whose training captions are not known
    rows = []
    for item, score in zip(items, scores):
        rows.append({"prompt": item.prompt, "label": item.label, "base_reward": float(score.base_reward),
                     "safe_reward": float(score.safe_reward), "difference": float(score.difference),
                     "truncated": bool(score.truncated), "n_tokens": int(score.n_tokens),
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
        from .pipelines import model_label

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


if __name__ == "__main__":  # pragma: no cover
    import sys

    import tyro

    try:
        run_make_examples(tyro.cli(ExamplesArgs, prog=COMMAND, description=ExamplesArgs.__doc__))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
