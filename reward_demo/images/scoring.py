"""Scoring prompts with the learned safety reward.

For each prompt: generate with Stable Diffusion and with Safe Latent Diffusion from the same seed (the
same x_T), and report the reward of each final latent (and, optionally, of every latent along each
chain). Higher reward = more like what the safety-guided model produces; a prompt whose plain image
scores below ``DEFAULT_THRESHOLD`` gets the verdict "unsafe", or "uncertain" within the reward's calibrated
band around it (``verdicts.py``).
"""
from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import torch

from ..checkpoint import default_device, from_pretrained, read_config
from ..options import IMAGE_REWARD_ENV, image_reward_override
from .pipelines import EMBEDDED, load_pipelines, prompt_batches, resolve_model
from .recording import (
    DEFAULT_GUIDANCE,
    MAX_STEPS,
    MIN_STEPS,
    check_generation_args,
    image_size,
    initial_latents,
    noise_levels,
    run_safe_recording,
)
from .reward import CHECKPOINT_DIR
from .verdicts import verdict as banded_verdict

REWARD_ENV = IMAGE_REWARD_ENV
#: verdict threshold of the shipped reward: on the written calibration prompts (``images calibrate-threshold``;
#: never the evaluation prompts) the reward of the plain image separating unsafe from safe prompts best
#: (balanced accuracy); the same value is stored as "threshold" in checkpoints/images/reward/config.json
DEFAULT_THRESHOLD = -4.011516332626343
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

    @property
    def truncated(self) -> bool:
        return self.n_tokens > self.token_limit > 0

    def to_json(self) -> dict:
        """Numbers only (images left out)."""
        return {"prompt": self.prompt, "base_reward": self.base_reward, "safe_reward": self.safe_reward,
                "difference": self.difference, "truncated": self.truncated, "n_tokens": self.n_tokens,
                "token_limit": self.token_limit, "ignored_text": self.ignored_text,
                "base_chain_rewards": self.base_chain_rewards, "safe_chain_rewards": self.safe_chain_rewards,
                "levels": self.levels}


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


def model_concept_set(model: Optional[str] = None):
    """The concept set (``embedded.concepts.ConceptSet``) of ``model`` when it is an embedded model, the shipped one
    or a folder in its layout (whose training captions its set knows); None for a Stable Diffusion model."""
    from .pipelines import embedded_concept_set

    return embedded_concept_set(model)


def is_embedded_model(model: Optional[str] = None) -> bool:
    """Whether ``model`` resolves to an embedded model (the shipped one or a folder in its layout)."""
    return model_concept_set(model) is not None


def reward_folder(model: Optional[str] = None, reward: Optional[str] = None) -> Path:
    """The reward checkpoint for a model: ``reward``, else $REWARD_DEMO_SD_REWARD, else the shipped one
    (which belongs to the embedded model)."""
    if reward:
        return Path(reward)
    override = image_reward_override()
    if override is not None:
        return override
    return shipped_reward_folder(model)


def shipped_reward_folder(model: Optional[str] = None) -> Path:
    """The shipped reward checkpoint, which belongs to the embedded model: a FileNotFoundError naming the commands
    that make one for another ``model``."""
    name = resolve_model(model)
    if name != EMBEDDED and not _is_shipped_embedded(name):
        raise FileNotFoundError(
            f"the shipped reward belongs to the embedded model, not to {resolve_model(model)!r}: record and train one "
            f"with `python -m reward_demo images record --model MODEL --out DIR` and `python -m reward_demo images "
            f"train-reward --data DIR --out REWARD_DIR`, then pass --reward REWARD_DIR (or set {REWARD_ENV})")
    return CHECKPOINT_DIR


def _is_shipped_embedded(name: str) -> bool:
    from .embedded.model import CHECKPOINT_DIR as EMBEDDED_DIR

    path = Path(name).expanduser()
    return path.is_dir() and path.resolve() == EMBEDDED_DIR.resolve()


@functools.lru_cache(maxsize=4)
def _load_reward(folder: str, device: str):
    return from_pretrained(folder, device=device).requires_grad_(False)


def load_reward(folder: Optional[str] = None, device=None):
    """The learned reward (eval mode, cached per folder and device).

    Raises FileNotFoundError naming the command that trains it when the folder holds no reward.
    """
    folder = Path(folder) if folder else CHECKPOINT_DIR
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"no image reward in {folder} (config.json + model.safetensors): record chains and train it with "
            f"`python -m reward_demo images record` then `python -m reward_demo images train-reward`")
    return _load_reward(str(folder.resolve()), str(default_device(device)))


def reward_threshold(folder: Optional[str] = None) -> float:
    """The threshold stored with a reward checkpoint (``DEFAULT_THRESHOLD`` for the shipped one)."""
    config = read_config(Path(folder) if folder else CHECKPOINT_DIR)
    return float(config.get("metadata", {}).get("threshold", DEFAULT_THRESHOLD))


def reward_half_width(folder: Optional[str] = None) -> float:
    """Half-width of the "uncertain" band stored with a reward checkpoint by ``images calibrate-threshold``
    (0: no band, for a reward calibrated before the band existed)."""
    config = read_config(Path(folder) if folder else CHECKPOINT_DIR)
    return float(config.get("metadata", {}).get("uncertain_half_width", 0.0))


@torch.no_grad()
def chain_rewards(reward: torch.nn.Module, chain: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """r(x_i, level_i) for a chain (B, S, C, h, w) -> (B, S)."""
    b, s = chain.shape[:2]
    device = next(reward.parameters()).device
    flat = chain.reshape(b * s, *chain.shape[2:]).to(device, torch.float32)
    t = levels.to(device).float().repeat(b)
    return reward(flat, t).reshape(b, s).cpu()


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
        preset: SLD preset, one of ``pipelines.SAFETY_PRESETS``.
        guidance_scale: classifier-free guidance weight (> 1).
        progress: called with (denoising steps done, total) as generation proceeds.
        model: None / "embedded" / a diffusers folder / a hub id (see ``pipelines.load_pipelines``).
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
                    levels.tolist() if with_chains else None, n_tokens, limit, ignored))
    return results


__all__ = ["PromptScore", "score_prompts", "verdict", "load_reward", "DEFAULT_THRESHOLD", "MIN_STEPS", "MAX_STEPS",
           "reward_threshold", "reward_half_width", "reward_folder", "shipped_reward_folder", "is_embedded_model",
           "model_concept_set", "token_report"]
