"""What the embedded model draws, and what Safe Latent Diffusion changes: a sample grid and numbers.

``python -m reward_demo images embedded-report`` generates, for one canonical prompt per concept and a few
paraphrases absent from the training captions, images with ``StableDiffusionPipeline`` and with
``StableDiffusionPipelineSafe`` (the safety concept of the model's concept set, a SafetyConfig preset) from
the same initial latents, and measures on every image
- the concept classifier's verdict (``ConceptClassifier``, trained on drawn images): is the prompt's
  concept recognised, and P(unsafe family);
- the fraction of red/orange pixels (``red_orange_fraction``: blood and fire colours);
- the mean absolute pixel change between the base and the safety-guided image;
- for unsafe scenes that also name a harmless object (``SCENES``), whether that object is what the
  classifier sees in the safety-guided image (the hazard removed, the scene kept).
It writes the numbers as JSON and the grid (per row: base images | safety-guided images) as PNG.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch

from ...options import GuidanceScaleOption, omp_threads
from ..prompts import PARAPHRASES, SCENES
from .concepts import SAFE, UNSAFE

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class EmbeddedReportArgs(GuidanceScaleOption):
    """Sample grid of the embedded model and the effect of Safe Latent Diffusion on it (JSON + PNG)."""

    model: Optional[Path] = None
    """embedded model folder (default: the shipped checkpoints/images/embedded_sd_v2)"""
    json: Path = ROOT / "assets" / "images_embedded.json"
    """output JSON"""
    png: Path = ROOT / "assets" / "images_samples.png"
    """output sample grid"""
    seeds: int = 4
    """images per prompt (seeds 0..SEEDS-1)"""
    steps: int = 50
    """DDIM steps"""
    preset: str = "MAX"
    """SafetyConfig preset of the safety-guided pipeline: WEAK, MEDIUM, STRONG or MAX"""


def initial_latents(unet, n_seeds: int, n_prompts: int) -> torch.Tensor:
    """(n_prompts * n_seeds, C, H, W): seed s for image s of every prompt, the same for both pipelines."""
    shape = (unet.config.in_channels, unet.config.sample_size, unet.config.sample_size)
    per_seed = [torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in range(n_seeds)]
    return torch.stack(per_seed * n_prompts)


def generate_pairs(prompts: List[str], components: dict, seeds: int = 4, steps: int = 50,
                   guidance_scale: float = 7.5, preset: str = "MAX", batch: int = 32,
                   safety_concept: Optional[str] = None):
    """(base, safe) images as tensors (len(prompts) * seeds, 3, 64, 64) in [-1, 1], prompt-major; the safety-guided
    images steer away from ``safety_concept`` (default: that of the shipped folder's concept set) with the SLD
    settings of ``preset`` (``models.safety_preset``)."""
    from ..models import images_from_pipeline_output, prompt_batches, safety_preset
    from .model import build_pipelines

    sld = safety_preset(preset)
    base_pipe, safe_pipe = build_pipelines(components, safety_concept)
    expanded = [p for p in prompts for _ in range(seeds)]
    latents = initial_latents(components["unet"], seeds, len(prompts))
    base, safe = [], []
    run = dict(num_inference_steps=steps, guidance_scale=guidance_scale, output_type="np")
    for rows in prompt_batches(safe_pipe.tokenizer, expanded, batch):
        chunk, start = expanded[rows], latents[rows]
        base.append(images_from_pipeline_output(base_pipe(chunk, latents=start.clone(), **run).images))
        safe.append(images_from_pipeline_output(
            safe_pipe(chunk, latents=start.clone(), **run, **sld).images))
    return torch.cat(base), torch.cat(safe)


def image_statistics(images: torch.Tensor, concepts: List[str], classifier) -> Dict[str, np.ndarray]:
    from ..evidence import red_orange_fraction

    with torch.no_grad():
        predicted = classifier.predict(images)
        p_unsafe = classifier.unsafe_probability(images).numpy()
    return {"p_unsafe": p_unsafe, "red_orange": red_orange_fraction(images).numpy(),
            "recognised": np.array([p == c for p, c in zip(predicted, concepts)], dtype=float),
            "predicted": predicted}


def summarise(rows: List[dict]) -> Dict[str, dict]:
    """Means over the safe-prompt and unsafe-prompt images."""
    out = {}
    for label in (SAFE, UNSAFE):
        group = [r for r in rows if r["label"] == label]
        if not group:
            continue
        out[label] = {key: float(np.mean([r[key] for r in group])) for key in
                      ("base_p_unsafe", "safe_p_unsafe", "base_red_orange", "safe_red_orange",
                       "base_recognised", "safe_recognised", "pixel_change")}
        if all("safe_object_kept" in r for r in group):
            out[label]["safe_object_kept"] = float(np.mean([r["safe_object_kept"] for r in group]))
        out[label]["n_images"] = len(group)
        out[label]["base_unsafe_rate"] = float(np.mean([r["base_p_unsafe"] > 0.5 for r in group]))
        out[label]["safe_unsafe_rate"] = float(np.mean([r["safe_p_unsafe"] > 0.5 for r in group]))
    return out


def embedded_report(args: EmbeddedReportArgs) -> dict:
    from PIL import Image

    from .model import folder_concept_set, folder_safety_concept, load_concept_classifier, load_embedded_components

    folder = str(args.model) if args.model else None
    components = load_embedded_components(folder)
    classifier = load_concept_classifier(folder)
    concept_set = folder_concept_set(folder)
    canonical = {concept_set.canonical_prompt(c): c for c in concept_set.names}
    # the paraphrases and scenes name v1 concepts, which every later set keeps
    sets = {"training_nouns": canonical, "paraphrases": PARAPHRASES,
            "scenes": {prompt: hazard for prompt, (hazard, _) in SCENES.items()}}
    began = time.time()
    safety_concept = folder_safety_concept(folder)
    report = {"concept_set": concept_set.name, "safety_concept": safety_concept, "preset": args.preset,
              "steps": args.steps, "guidance_scale": args.guidance_scale, "seeds": args.seeds, "sets": {}}
    grid_rows = []
    for name, prompt_to_concept in sets.items():
        prompts = list(prompt_to_concept)
        concepts = [prompt_to_concept[p] for p in prompts for _ in range(args.seeds)]
        base, safe = generate_pairs(prompts, components, args.seeds, args.steps, args.guidance_scale, args.preset,
                                    safety_concept=safety_concept)
        sb, ss = image_statistics(base, concepts, classifier), image_statistics(safe, concepts, classifier)
        change = (base - safe).abs().mean((1, 2, 3)).numpy() / 2  # on the [0, 1] scale
        rows = [{"prompt": prompts[i // args.seeds], "seed": i % args.seeds, "concept": concepts[i],
                 "label": concept_set.label(concepts[i]), "base_p_unsafe": float(sb["p_unsafe"][i]),
                 "safe_p_unsafe": float(ss["p_unsafe"][i]), "base_red_orange": float(sb["red_orange"][i]),
                 "safe_red_orange": float(ss["red_orange"][i]), "base_recognised": float(sb["recognised"][i]),
                 "safe_recognised": float(ss["recognised"][i]), "base_predicted": sb["predicted"][i],
                 "safe_predicted": ss["predicted"][i], "pixel_change": float(change[i])} for i in range(len(concepts))]
        if name == "scenes":
            for row in rows:
                row["object"] = SCENES[row["prompt"]][1]
                row["safe_object_kept"] = float(row["safe_predicted"] == row["object"])
        report["sets"][name] = {"summary": summarise(rows), "images": rows}
        if name in ("training_nouns", "scenes"):
            to_uint8 = lambda x: ((x.permute(0, 2, 3, 1).numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)  # noqa: E731
            b, s = to_uint8(base), to_uint8(safe)
            for p in range(len(prompts)):
                sl = slice(p * args.seeds, (p + 1) * args.seeds)
                gap = np.full((64, 8, 3), 255, np.uint8)
                grid_rows.append(np.concatenate([*b[sl], gap, *s[sl]], axis=1))
    report["seconds"] = time.time() - began
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    grid = np.concatenate(grid_rows, axis=0)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    # a 256-colour palette keeps the grid small in the repository (the drawings have few colours)
    Image.fromarray(grid).quantize(colors=256).save(args.png, optimize=True)
    return report


def embedded_report_command(args: EmbeddedReportArgs):
    torch.set_num_threads(omp_threads())
    report = embedded_report(args)
    for name, entry in report["sets"].items():
        for label, s in entry["summary"].items():
            print(f"{name:15} {label:6} recognised {s['base_recognised']:.2f}  P(unsafe) base {s['base_p_unsafe']:.2f} "
                  f"-> safe {s['safe_p_unsafe']:.2f}  "
                  f"red/orange {s['base_red_orange']:.3f} -> {s['safe_red_orange']:.3f}  "
                  f"pixel change {s['pixel_change']:.3f}"
                  + (f"  object kept by SLD {s['safe_object_kept']:.2f}" if "safe_object_kept" in s else ""))
    print(f"wrote {args.json} and {args.png} ({report['seconds']:.0f} s)")


__all__ = ["EmbeddedReportArgs", "embedded_report", "embedded_report_command", "generate_pairs", "PARAPHRASES",
           "SCENES"]
