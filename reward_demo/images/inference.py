"""Scoring prompts with the learned safety reward: what the Images tab (through ``demo.py``) and the commands call,
``score_prompts``, and the command ``images score`` (``score_command``).

For each prompt: generate with Stable Diffusion and with Safe Latent Diffusion from the same seed (the
same x_T), and report the reward of each final latent (and, optionally, of every latent along each
chain). Higher reward = more like what the safety-guided model produces; a prompt whose plain image
scores below ``DEFAULT_THRESHOLD`` gets the verdict "unsafe", or "uncertain" within the reward's calibrated
band around it (``verdicts.py``).
"""
from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import torch

from ..options import GuidanceScaleOption, ImageModelOption, PromptBatchOption, SamplerOptions
from .data import (
    DEFAULT_GUIDANCE,
    check_generation_args,
    image_size,
    initial_latents,
    noise_levels,
    read_prompts_file,
    run_safe_recording,
)
from .models import (
    DEFAULT_THRESHOLD,
    chain_verdict_rule,
    load_pipelines,
    load_reward,
    model_concept_set,
    prompt_batches,
    resolve_model,
    reward_folder,
    reward_half_width,
    reward_threshold,
)
from .verdicts import verdict as banded_verdict

MAX_BATCH = 8

_GENERATION_LOCK = threading.Lock()  # the pipelines share one scheduler whose step count is per call


@dataclass
class PromptScore:
    """One prompt's scores: rewards of the final latents of both samplers (same seed)."""

    prompt: str
    base_reward: float
    """reward of Stable Diffusion's final latent"""
    safe_reward: float
    """reward of Safe Latent Diffusion's final latent"""
    difference: float
    """safe_reward - base_reward"""
    base_image: object = None
    """PIL image of the plain sample"""
    safe_image: object = None
    """PIL image of the safety-guided sample"""
    base_chain_rewards: Optional[List[float]] = None
    """reward of the latent after every step of the plain chain"""
    safe_chain_rewards: Optional[List[float]] = None
    """reward of the latent after every step of the safety-guided chain"""
    levels: Optional[List[int]] = field(default=None, repr=False)
    """noise level (training timestep) of each chain latent"""
    n_tokens: int = 0
    """tokens of the prompt, start and end tokens included, before the text encoder's limit cuts it"""
    token_limit: int = 0
    """tokens the text encoder reads (the model's tokenizer's ``model_max_length``)"""
    ignored_text: str = ""
    """the words past the limit, which the model never saw (empty when nothing was cut)"""
    base_latent: Optional[torch.Tensor] = field(default=None, repr=False)
    """Stable Diffusion's final latent (C, h, w), for scoring the same image with other rewards"""
    safe_latent: Optional[torch.Tensor] = field(default=None, repr=False)
    """Safe Latent Diffusion's final latent (C, h, w)"""
    base_chain: Optional[torch.Tensor] = field(default=None, repr=False)
    """every latent of the plain chain (S, C, h, w), for its chain score under other rewards (None without chains)"""

    @property
    def base_chain_score(self) -> Optional[float]:
        """This project's chain score of the plain sample: the mean reward along its chain (``chain_score``)."""
        return None if self.base_chain_rewards is None else chain_score(self.base_chain_rewards)

    @property
    def safe_chain_score(self) -> Optional[float]:
        """The chain score of the safety-guided sample."""
        return None if self.safe_chain_rewards is None else chain_score(self.safe_chain_rewards)

    @property
    def truncated(self) -> bool:
        return self.n_tokens > self.token_limit > 0

    def to_json(self) -> dict:
        """Numbers only (images left out)."""
        return {"prompt": self.prompt, "base_reward": self.base_reward, "safe_reward": self.safe_reward,
                "difference": self.difference, "truncated": self.truncated, "n_tokens": self.n_tokens,
                "token_limit": self.token_limit, "ignored_text": self.ignored_text,
                "base_chain_score": self.base_chain_score, "safe_chain_score": self.safe_chain_score,
                "base_chain_rewards": self.base_chain_rewards, "safe_chain_rewards": self.safe_chain_rewards,
                "levels": self.levels}


def chain_score(chain_rewards: Sequence[float]) -> float:
    """The chain score (this project's extension; the paper scores the final latent alone): the mean of r(x_t, t)
    over every latent of a sampling chain, the return of the denoising trajectory. The final latent is where the
    safety guidance changes least and the reward is fitted least; the noisier latents carry what it learnt."""
    values = [float(v) for v in chain_rewards]
    if not values:
        raise ValueError("chain_rewards must not be empty")
    return sum(values) / len(values)


def verdict(reward: float, threshold: float = None, half_width: float = 0.0) -> str:
    """"safe" when ``reward >= threshold + half_width`` (default threshold ``DEFAULT_THRESHOLD``), "unsafe" when
    below ``threshold - half_width``, else "uncertain" (``verdicts.verdict``)."""
    return banded_verdict(reward, DEFAULT_THRESHOLD if threshold is None else threshold, half_width)


def token_report(tokenizer, prompt: str) -> tuple:
    """(tokens of ``prompt``, the tokenizer's limit, the text past the limit): what the model does not read."""
    ids = tokenizer(prompt).input_ids
    limit = int(tokenizer.model_max_length)
    ignored = tokenizer.decode(ids[limit - 1:-1], skip_special_tokens=True).strip() if len(ids) > limit else ""
    return len(ids), limit, ignored


@torch.no_grad()
def chain_rewards(reward: torch.nn.Module, chain: torch.Tensor, levels: torch.Tensor,
                  max_latents: int = 4096) -> torch.Tensor:
    """r(x_i, level_i) for chains (B, S, C, h, w) -> (B, S), at most ``max_latents`` latents per forward pass."""
    b, s = chain.shape[:2]
    device = next(reward.parameters()).device
    per_pass = max(1, max_latents // max(1, s))
    t = levels.to(device).float()
    out = []
    for start in range(0, b, per_pass):
        part = chain[start:start + per_pass]
        flat = part.reshape(part.shape[0] * s, *chain.shape[2:]).to(device, torch.float32)
        out.append(reward(flat, t.repeat(part.shape[0])).reshape(part.shape[0], s).cpu())
    return torch.cat(out) if out else torch.zeros(0, s)


@torch.no_grad()
def generate_pair(base, safe, prompts: Sequence[str], seeds: Sequence[int], n_steps: int, sld: dict,
                  guidance_scale: float, on_step: Optional[Callable[[], None]] = None):
    """Both samplers from the same x_T for every prompt (prompt k's drawn from ``seeds[k]``).

    Returns (base chain (B, S, C, h, w), safe chain (B, S, C, h, w), base PIL images, safe PIL images, timesteps).
    """
    x_T = initial_latents(base, seeds)
    captured = []

    def capture(pipe, step, timestep, kwargs):
        captured.append(kwargs["latents"].detach().float().cpu().clone())
        if on_step is not None:
            on_step()
        return kwargs

    height, width = image_size(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = base(list(prompts), height=height, width=width, num_inference_steps=n_steps,
                   guidance_scale=guidance_scale, latents=x_T.clone(), output_type="latent",
                   callback_on_step_end=capture)
    base_final = out.images
    decoded = base.vae.decode(base_final / base.vae.config.scaling_factor, return_dict=False)[0]
    base_images = base.image_processor.postprocess(decoded, output_type="pil")
    safe_out, _, safe_chain, timesteps = run_safe_recording(safe, prompts, x_T, n_steps, guidance_scale, sld,
                                                            "safe", on_step, output_type="pil")
    return torch.stack(captured, 1), safe_chain, base_images, list(safe_out.images), timesteps


def score_prompts(prompts: Sequence[str], seed: int = 0, n_steps: int = 50, preset: str = "max",
                  guidance_scale: float = DEFAULT_GUIDANCE, progress: Optional[Callable[[int, int], None]] = None,
                  model: Optional[str] = None, reward: Optional[str] = None, batch_size: int = MAX_BATCH,
                  with_chains: bool = True, device=None, seeds: Optional[Sequence[int]] = None) -> List[PromptScore]:
    """Score prompts: rewards of the Stable Diffusion and the Safe Latent Diffusion final latents.

    Args:
        prompts: non-empty strings.
        seed: x_T seed, the same for every prompt and for both samplers.
        seeds: one x_T seed per prompt instead (requests batched together keep their own seeds); each x_T is
            drawn from its own generator, so a prompt's result does not depend on what it is batched with.
        n_steps: DDIM steps (2..200; the shipped reward was trained on 50).
        preset: SLD preset, one of ``models.SAFETY_PRESETS``, optionally with settings (``models.safety_preset``).
        guidance_scale: classifier-free guidance weight (> 1).
        progress: called with (denoising steps done, total) as generation proceeds.
        model: None / "embedded" / a diffusers folder / a hub id (see ``models.load_pipelines``).
        reward: reward checkpoint folder (default: the one for ``model``, see ``reward_folder``).
        batch_size: prompts per pipeline call.
        with_chains: also compute the reward of every latent along both chains.

    Raises:
        ValueError: empty prompt list, empty prompt, unknown preset, n_steps or guidance out of range.
        FileNotFoundError: the model or the reward cannot be found.
    """
    prompts = list(prompts) if not isinstance(prompts, str) else prompts
    sld = check_generation_args(prompts, n_steps, preset, guidance_scale)
    if not 1 <= int(batch_size) <= 64:
        raise ValueError(f"batch_size must be in 1..64, got {batch_size}")
    seeds = [seed] * len(prompts) if seeds is None else list(seeds)
    if len(seeds) != len(prompts):
        raise ValueError(f"seeds must give one seed per prompt ({len(prompts)}), got {len(seeds)}")
    for value in seeds:
        if not isinstance(value, int) or not 0 <= value < 2**63:
            raise ValueError(f"seed must be a non-negative integer, got {value!r}")
    reward_net = load_reward(str(reward_folder(model, reward)), device)
    base, safe = load_pipelines(model, device)
    expected = (reward_net.config["in_channels"], reward_net.config["sample_size"])
    got = (base.unet.config.in_channels, base.unet.config.sample_size)
    if expected != got:
        raise ValueError(f"the reward was trained on latents with (channels, side) = {expected} but model "
                         f"{resolve_model(model)!r} makes {got}; pass the reward trained for this model")
    total = 2 * n_steps * len(prompts)
    done = {"n": 0}
    results: List[PromptScore] = []
    with _GENERATION_LOCK:
        for batch in prompt_batches(safe.tokenizer, prompts, batch_size):
            chunk = prompts[batch]

            def on_step(n=len(chunk)):
                done["n"] += n
                if progress is not None:
                    progress(done["n"], total)

            base_chain, safe_chain, base_images, safe_images, timesteps = generate_pair(
                base, safe, chunk, seeds[batch], n_steps, sld, guidance_scale, on_step)
            levels = noise_levels(timesteps, base.scheduler.config.num_train_timesteps)
            if with_chains:
                r_base = chain_rewards(reward_net, base_chain, levels)
                r_safe = chain_rewards(reward_net, safe_chain, levels)
            else:
                r_base = chain_rewards(reward_net, base_chain[:, -1:], levels[-1:])
                r_safe = chain_rewards(reward_net, safe_chain[:, -1:], levels[-1:])
            for k, prompt in enumerate(chunk):
                b, s = float(r_base[k, -1]), float(r_safe[k, -1])
                n_tokens, limit, ignored = token_report(safe.tokenizer, prompt)
                results.append(PromptScore(
                    prompt, b, s, s - b, base_images[k], safe_images[k],
                    r_base[k].tolist() if with_chains else None, r_safe[k].tolist() if with_chains else None,
                    levels.tolist() if with_chains else None, n_tokens, limit, ignored,
                    base_chain[k, -1], safe_chain[k, -1], base_chain[k] if with_chains else None))
    return results


# --------------------------------------------------------------------------------------------------
# The command ``images score``


@dataclass
class ScoreArgs(PromptBatchOption, GuidanceScaleOption, SamplerOptions, ImageModelOption):
    """Score prompts: rewards of the SD and the SLD final latents from the same seed (and the SD chain's chain
    score), as JSON."""

    prompts: Path
    """prompt file: .txt (one per line) or .csv with a 'prompt' column"""
    json: Path
    """output JSON file"""
    reward: Optional[Path] = None
    """reward checkpoint folder (default: the shipped one, for the embedded model)"""
    seed: int = 0
    """x_T seed (same for both samplers and every prompt)"""
    images: Optional[Path] = None
    """folder to write the base and safe images (PNG) into"""


def score_command(args: ScoreArgs):
    """Per prompt: both rewards, their verdicts ("uncertain" inside the reward's calibrated band), the SD chain's
    chain score and its verdict (null where the reward has no calibrated chain threshold), the prompt's
    ``unknown_words`` (words no training caption of an embedded model's concept set uses; null for another model,
    whose vocabulary is not known) and whether the text encoder cut it (``truncated``, ``ignored_text``)."""
    from .embedded.vocabulary import unknown_words

    pairs = read_prompts_file(args.prompts)
    prompts = [p for p, _ in pairs]
    scores = score_prompts(prompts, seed=args.seed, n_steps=args.n_steps, preset=args.preset,
                           guidance_scale=args.guidance_scale, model=args.model,
                           reward=str(args.reward) if args.reward else None, batch_size=args.batch_size)
    folder = str(reward_folder(args.model, str(args.reward) if args.reward else None))
    threshold, half_width = reward_threshold(folder), reward_half_width(folder)
    chain_rule = chain_verdict_rule(folder)  # None: this reward has no calibrated chain threshold
    concepts = model_concept_set(args.model)  # None for a model whose training captions are not known
    rows = []
    for k, score in enumerate(scores):
        row = score.to_json()
        row.update({"base_verdict": verdict(score.base_reward, threshold, half_width),
                    "safe_verdict": verdict(score.safe_reward, threshold, half_width),
                    "base_chain_verdict": None if chain_rule is None else verdict(score.base_chain_score, *chain_rule),
                    "unknown_words": unknown_words(score.prompt, concepts or False)})
        if args.images is not None:
            args.images.mkdir(parents=True, exist_ok=True)
            for kind, image in (("base", score.base_image), ("safe", score.safe_image)):
                name = args.images / f"{k:03d}_{kind}.png"
                image.save(name)
                row[f"{kind}_image"] = str(name)
        rows.append(row)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"threshold": threshold, "uncertain_half_width": half_width,
                                     "chain_threshold": None if chain_rule is None else chain_rule[0],
                                     "chain_uncertain_half_width": None if chain_rule is None else chain_rule[1],
                                     "seed": args.seed, "n_steps": args.n_steps, "preset": args.preset,
                                     "scores": rows}, indent=1) + "\n")
    print(f"{'r(SD)':>8} {'r(SLD)':>8} {'verdict':>9} {'chain':>8} {'verdict':>9}  prompt   (verdicts of the SD image: "
          f"final latent, the paper's, threshold {threshold:.3f}, uncertain within +-{half_width:.3f}; chain score, "
          "this project's, " + ("not calibrated" if chain_rule is None else
                                f"threshold {chain_rule[0]:.3f}, uncertain within +-{chain_rule[1]:.3f}") + ")")
    for row in rows:
        notes = ([f"unknown words: {', '.join(row['unknown_words'])}"] if row["unknown_words"] else []) + \
            ([f"cut after {row['token_limit']} tokens, ignored: {row['ignored_text']!r}"] if row["truncated"] else [])
        print(f"{row['base_reward']:+8.3f} {row['safe_reward']:+8.3f} {row['base_verdict']:>9} "
              f"{row['base_chain_score']:+8.3f} {row['base_chain_verdict'] or '-':>9}  {row['prompt']}"
              + (f"   [{'; '.join(notes)}]" if notes else ""))
    print(f"wrote {args.json}")


__all__ = ["PromptScore", "chain_score", "score_prompts", "verdict", "token_report", "ScoreArgs", "score_command"]
