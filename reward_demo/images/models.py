"""The Images domain's models and their loaders: the two text-to-image samplers of the image experiment, Stable
Diffusion (the *base*) and the same weights under Safe Latent Diffusion guidance (the *expert*), both stock
diffusers pipelines (``load_pipelines``), and the learned reward with the verdict threshold and "uncertain" band
stored with it (``load_reward``, ``reward_folder``, ``reward_threshold``, ``reward_half_width``).

``load_pipelines(model)`` picks the weights:

- ``None``: $REWARD_DEMO_SD_MODEL when set, else the embedded default (this project's small text-to-image
  model in checkpoints/images/embedded_sd_v2, see ``reward_demo.images.embedded``; the only place the reward
  path loads it);
- ``"embedded"`` or a folder holding the embedded model: the embedded default;
- a local diffusers folder (any Stable Diffusion 1.x checkpoint with a ``model_index.json``);
- a hub id such as ``stable-diffusion-v1-5/stable-diffusion-v1-5``: read from the local Hugging Face
  cache only, unless $REWARD_DEMO_ALLOW_DOWNLOAD=1 allows a download.

Both pipelines share one set of modules (no second copy of the weights) and one DDIM scheduler with
eta = 0: DDIM is deterministic and stateless, so a reverse step can be taken from any latent, which is
what recording the unguided and the safety-guided next latent from the same latent needs.

The shipped reward (checkpoints/images/reward) belongs to the embedded model; another model needs its own, given
by ``--reward`` or $REWARD_DEMO_SD_REWARD (``reward_folder``).
"""
from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..checkpoint import default_device, from_pretrained, read_config
from ..options import (
    ALLOW_DOWNLOAD_ENV,
    IMAGE_MODEL_ENV,
    IMAGE_REWARD_ENV,
    download_allowed,
    image_model_override,
    image_reward_override,
)
from .reward import LatentRewardEnsemble, LatentUnetEncoderReward  # noqa: F401  (registered: from_pretrained builds them)

MODEL_ENV = IMAGE_MODEL_ENV
EMBEDDED = "embedded"
REWARD_ENV = IMAGE_REWARD_ENV
#: the shipped reward checkpoint (it belongs to the embedded model)
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "images" / "reward"
#: verdict threshold of the shipped reward: on the written calibration prompts (``images calibrate-threshold``;
#: never the evaluation prompts) the reward of the plain image separating unsafe from safe prompts best
#: (balanced accuracy); the same value is stored as "threshold" in checkpoints/images/reward/config.json
DEFAULT_THRESHOLD = -30.089262008666992


def _safety_config() -> Dict[str, Dict[str, float]]:
    from diffusers.pipelines.deprecated.stable_diffusion_safe import SafetyConfig

    return {"weak": dict(SafetyConfig.WEAK), "medium": dict(SafetyConfig.MEDIUM),
            "strong": dict(SafetyConfig.STRONG), "max": dict(SafetyConfig.MAX)}


#: Safe Latent Diffusion hyper-parameters by name (diffusers' SafetyConfig; the paper's reference uses "max")
SAFETY_PRESETS: Dict[str, Dict[str, float]] = _safety_config()


def safety_preset(name: str) -> Dict[str, float]:
    """The SLD keyword arguments of a preset: a name (case-insensitive), optionally followed by settings that
    replace some of its numbers, "max: threshold=0, momentum_scale=0" (any of the preset's keys, with or without
    the "sld_" prefix); ValueError naming the preset, key or value that is wrong and what is allowed."""
    key, _, overrides = str(name).partition(":")
    key = key.strip().lower()
    if key not in SAFETY_PRESETS:
        raise ValueError(f"unknown safety preset {name!r}; choose one of {sorted(SAFETY_PRESETS)}, optionally "
                         f"followed by settings (\"max: threshold=0, momentum_scale=0\")")
    sld = dict(SAFETY_PRESETS[key])
    for item in filter(None, (part.strip() for part in overrides.split(","))):
        setting, sep, value = (text.strip() for text in item.partition("="))
        field = setting if setting.startswith("sld_") else f"sld_{setting}"
        if not sep or field not in sld:
            allowed = ", ".join(k[len("sld_"):] for k in sld)
            raise ValueError(f"SLD setting {item!r} must be KEY=VALUE with KEY one of {allowed}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"SLD setting {item!r}: {value!r} is not a number") from None
        whole = field == "sld_warmup_steps"
        if (number < 0 and field != "sld_threshold") or (whole and not number.is_integer()):
            raise ValueError(f"SLD setting {item!r}: {setting} must be a non-negative "
                             f"{'whole number' if whole else 'number'}")
        sld[field] = int(number) if whole else number
    return sld


def preset_with_settings(preset: str, settings: str = "") -> str:
    """The preset name that ``safety_preset`` reads for ``preset`` with ``settings`` ("" keeps the preset)."""
    settings = str(settings).strip()
    return f"{preset}: {settings}" if settings else str(preset)


def ddim_scheduler(config) -> "DDIMScheduler":  # noqa: F821
    """A DDIM scheduler on the noise schedule of ``config`` (any SD scheduler's config)."""
    from diffusers import DDIMScheduler

    # steps_offset=1 and clip_sample=False are what Stable Diffusion 1.x uses (and what the Safe pipeline
    # would otherwise rewrite in place on the shared scheduler)
    return DDIMScheduler.from_config(config, steps_offset=1, clip_sample=False, set_alpha_to_one=False,
                                     timestep_spacing="leading")


def pipelines_from_components(components: dict, device=None, safety_concept: Optional[str] = None,
                              dtype: Optional[torch.dtype] = None):
    """(StableDiffusionPipeline, StableDiffusionPipelineSafe) over the same modules and one DDIM scheduler.

    Args:
        components: vae, unet, text_encoder, tokenizer and scheduler (other keys are ignored).
        device: where the modules go (default: ``checkpoint.default_device()``).
        safety_concept: the text SLD steers away from (None keeps diffusers' default concept).
        dtype: module dtype (default: as given; callers pass float16 for large models on a GPU).
    """
    from diffusers import StableDiffusionPipeline, StableDiffusionPipelineSafe

    device = default_device(device) if not isinstance(device, torch.device) else device
    shared = {name: components[name] for name in ("vae", "unet", "text_encoder", "tokenizer")}
    shared["scheduler"] = ddim_scheduler(components["scheduler"].config)
    for name in ("vae", "unet", "text_encoder"):
        module = shared[name].to(device)
        if dtype is not None and module.dtype != dtype:
            module = module.to(dtype)
        shared[name] = module.eval().requires_grad_(False)
    common = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    quiet = logging.getLogger("diffusers")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the Safe pipeline's deprecation notice; we know
    try:
        base = StableDiffusionPipeline(**shared, **common)
        safe = StableDiffusionPipelineSafe(**shared, **common)
    finally:
        quiet.setLevel(level)
    if safety_concept is not None:
        safe.safety_concept = safety_concept
    for pipe in (base, safe):
        pipe.set_progress_bar_config(disable=True)
    return base, safe


def resolve_model(model: Optional[str] = None) -> str:
    """The model a run uses: ``model``, else $REWARD_DEMO_SD_MODEL, else ``"embedded"``."""
    name = model if model not in (None, "") else image_model_override()
    return str(name).strip() or EMBEDDED


def is_embedded_folder(path: Path) -> bool:
    """A folder in the embedded model's layout (vae/, unet/, scheduler/ and reward_demo.json; no model_index.json)."""
    return path.is_dir() and not (path / "model_index.json").is_file() and (path / "reward_demo.json").is_file()


def embedded_concept_set(model: Optional[str] = None):
    """The concept set (``embedded.concepts.ConceptSet``) of the model a run uses when it is an embedded model (the
    shipped one or a folder in its layout), from the folder's record; None for a Stable Diffusion model."""
    from .embedded.model import folder_concept_set

    name = resolve_model(model)
    if name == EMBEDDED:
        return folder_concept_set()
    path = Path(name).expanduser()
    return folder_concept_set(path) if is_embedded_folder(path) else None


def _load_diffusers(model: str, device: torch.device):
    from diffusers import StableDiffusionPipeline

    path = Path(model).expanduser()
    local = path.exists()
    if local and not (path / "model_index.json").is_file():
        raise FileNotFoundError(f"{path} is not a diffusers Stable Diffusion folder (no model_index.json in it)")
    if not local and (model.count("/") != 1 or model.startswith((".", "/", "~"))):
        raise FileNotFoundError(f"model {model!r} is neither an existing folder nor a hub id of the form owner/name")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    offline = not local and not download_allowed()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = StableDiffusionPipeline.from_pretrained(
                str(path) if local else model, safety_checker=None, feature_extractor=None,
                requires_safety_checker=False, torch_dtype=dtype, local_files_only=offline or local)
    except (OSError, EnvironmentError, ValueError) as error:
        if local:
            raise FileNotFoundError(f"could not load the Stable Diffusion folder {path}: {error}") from error
        hint = (f" (only the local Hugging Face cache was searched; set {ALLOW_DOWNLOAD_ENV}=1 to allow a download)"
                if offline else "")
        raise FileNotFoundError(f"could not load the model {model!r}{hint}: {error}") from error
    return base.components, dtype


@functools.lru_cache(maxsize=2)
def _load_cached(model: str, device: str):
    device = torch.device(device)
    if embedded_concept_set(model) is not None:
        from .embedded.model import folder_safety_concept, load_embedded_components

        folder = None if model == EMBEDDED else str(Path(model).expanduser())
        components = load_embedded_components(folder, device=device)
        return pipelines_from_components(components, device, safety_concept=folder_safety_concept(folder))
    components, dtype = _load_diffusers(model, device)
    return pipelines_from_components(components, device, dtype=dtype)


def load_pipelines(model: Optional[str] = None, device: Optional[Union[str, torch.device]] = None):
    """(StableDiffusionPipeline, StableDiffusionPipelineSafe) sharing one set of weights; cached per model.

    Args:
        model: None ($REWARD_DEMO_SD_MODEL, else the embedded default), ``"embedded"``, a local diffusers
            folder, or a hub id (read from the local cache unless $REWARD_DEMO_ALLOW_DOWNLOAD=1).
        device: torch device (default: ``checkpoint.default_device()``).

    Raises:
        FileNotFoundError: the model cannot be found or loaded (the message names it).
    """
    return _load_cached(resolve_model(model), str(default_device(device)))


def prompt_batches(tokenizer, prompts: Sequence[str], batch_size: int) -> List[slice]:
    """Consecutive slices of ``prompts`` for the pipeline calls: at most ``batch_size`` prompts each, and a prompt
    longer than the tokenizer's limit (``model_max_length``) in a slice of its own.

    ``StableDiffusionPipelineSafe`` tokenizes a batch once more without truncation, to warn that a prompt was
    cut, and that fails when the batch's prompts tokenize to different lengths. Alone, a long prompt is cut to
    the limit, as every Stable Diffusion pipeline cuts it. Order is kept, so results line up with ``prompts``."""
    limit = tokenizer.model_max_length
    slices, start = [], 0
    for i, prompt in enumerate(prompts):
        if len(tokenizer(prompt).input_ids) > limit:
            if start < i:
                slices.append(slice(start, i))
            slices.append(slice(i, i + 1))
            start = i + 1
        elif i + 1 - start == batch_size:
            slices.append(slice(start, i + 1))
            start = i + 1
    if start < len(prompts):
        slices.append(slice(start, len(prompts)))
    return slices


def model_label(model: Optional[str] = None) -> str:
    """A short name of the model a run uses, for reports."""
    return resolve_model(model)


def to_model_images(images_uint8: np.ndarray) -> torch.Tensor:
    """(n, 64, 64, 3) uint8 -> (n, 3, 64, 64) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def images_from_pipeline_output(images) -> torch.Tensor:
    """PIL images, or numpy (n, H, W, 3) in [0, 1] (``output_type="np"``) -> (n, 3, H, W) in [-1, 1]."""
    if isinstance(images, np.ndarray):
        return torch.from_numpy(images).permute(0, 3, 1, 2).float() * 2 - 1
    return to_model_images(np.stack([np.asarray(im.convert("RGB")) for im in images]))


# --------------------------------------------------------------------------------------------------
# The learned reward: its checkpoint, its loader and the verdict threshold and band stored with it


def model_concept_set(model: Optional[str] = None):
    """The concept set (``embedded.concepts.ConceptSet``) of ``model`` when it is an embedded model, the shipped one
    or a folder in its layout (whose training captions its set knows); None for a Stable Diffusion model."""
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


def chain_verdict_rule(folder: Optional[str] = None) -> Optional[Tuple[float, float]]:
    """(threshold, uncertain half-width) of the chain score (``inference.chain_score``) stored with a reward
    checkpoint by ``images calibrate-threshold``; None for a reward calibrated before the chain score existed."""
    config = read_config(Path(folder) if folder else CHECKPOINT_DIR)
    stored = config.get("metadata", {}).get("chain_score")
    return None if stored is None else (float(stored["threshold"]), float(stored["uncertain_half_width"]))
