"""The embedded default text-to-image model: a small latent diffusion model in diffusers' layout, and its folder.

Stable Diffusion's weights are not on this machine, so the Images tab ships its own: trained here
(``train.py``) on the captioned drawings of ``data.py`` and ``drawings.py``, with the same parts as Stable
Diffusion 1.x so that ``StableDiffusionPipeline`` and ``StableDiffusionPipelineSafe`` run on it unchanged:

- text encoder: the frozen pretrained all-MiniLM-L6-v2 (``text_encoder.py``; 384-d token states);
- VAE: ``AutoencoderKL``, 64x64x3 images <-> 16x16x4 latents (``scaling_factor`` = 1 / the measured
  latent standard deviation), trained on reconstruction + a small KL term;
- UNet: ``UNet2DConditionModel`` on 16x16x4 latents, cross-attention (dim 384) at 8x8 and 4x4,
  epsilon prediction, 10 % of captions dropped to the empty prompt (classifier-free guidance);
- scheduler: ``DDIMScheduler`` with Stable Diffusion's betas (stateless, so a chain can be stepped
  from any latent);
- a small concept classifier used to check the images (``ConceptClassifier``).

The shipped folder (default ``checkpoints/images/embedded_sd_v2``, written by ``write_model_folder``):
``vae/``, ``unet/``, ``scheduler/`` (diffusers ``save_pretrained``, safetensors), ``concept_classifier/``
and ``reward_demo.json`` (concept set, text encoder, image size, safety concept, reproduce command, training log).
A folder's concept set (``catalogue.py``) is ``folder_concept_set(folder)``: what it draws, its safety concept, its
vocabulary.
``load_embedded_components()`` returns the pipeline components, ``load_concept_classifier()`` the classifier.
"""
from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import List, Optional, Union

import torch
import torch.nn as nn

from ...checkpoint import from_pretrained, register, save_pretrained
from . import catalogue
from .catalogue import DEFAULT_CONCEPT_SET
from .concepts import ConceptSet
from .data import IMAGE_SIZE, TRAIN_CONCEPTS
from .text_encoder import HIDDEN_SIZE, load_text_encoder

ROOT = Path(__file__).resolve().parents[3]
#: the concept set of the shipped model (``CHECKPOINT_DIR``); train-embedded writes each set to ``model_folder(set)``
SHIPPED_CONCEPT_SET = "v2"


def model_folder(concept_set: str) -> Path:
    """Where ``images train-embedded --concept-set SET`` writes its model by default: checkpoints/images/embedded_sd
    for v1, embedded_sd_<set> for another."""
    name = "embedded_sd" if concept_set == DEFAULT_CONCEPT_SET else f"embedded_sd_{concept_set}"
    return ROOT / "checkpoints" / "images" / name


#: the shipped embedded model's folder (the default of every command and of the Images tab)
CHECKPOINT_DIR = model_folder(SHIPPED_CONCEPT_SET)
METADATA_NAME = "reward_demo.json"
#: the v1 concepts, in the shipped classifier's order (a model's own are ``folder_concept_set(folder).names``)
CONCEPTS: List[str] = list(TRAIN_CONCEPTS)
#: the key of ``reward_demo.json`` that names the folder's concept set (absent: v1)
CONCEPT_SET_KEY = "concept_set"


# ---------------------------------------------------------------- model configurations

def vae_config(size: str = "default") -> dict:
    channels = {"default": (16, 32, 64), "tiny": (8, 8, 8)}[size]
    return dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
                up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=channels, layers_per_block=1,
                latent_channels=4, norm_num_groups=8, sample_size=IMAGE_SIZE, scaling_factor=1.0)


def unet_config(size: str = "default") -> dict:
    channels = {"default": (32, 64, 64), "tiny": (8, 16, 16)}[size]
    latent = IMAGE_SIZE // 4
    # no attention at the full 16x16 latent resolution: 2.3x cheaper to train here, and the
    # cross-attention at 8x8 and 4x4 carries the prompt
    return dict(sample_size=latent, in_channels=4, out_channels=4,
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                block_out_channels=channels, layers_per_block=1, cross_attention_dim=HIDDEN_SIZE,
                attention_head_dim=8 if size == "default" else 2, norm_num_groups=8)


def scheduler_config() -> dict:
    """Stable Diffusion 1.x's DDIM configuration."""
    return dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                clip_sample=False, set_alpha_to_one=False, steps_offset=1, prediction_type="epsilon")


def build_vae(size: str = "default"):
    from diffusers import AutoencoderKL

    return AutoencoderKL(**vae_config(size))


def build_unet(size: str = "default"):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**unet_config(size))


def build_scheduler():
    from diffusers import DDIMScheduler

    return DDIMScheduler(**scheduler_config())


@register(omit_defaults=("concept_set",))
class ConceptClassifier(nn.Module):
    """A small CNN telling the drawn concepts of one concept set apart on 64x64 images in [-1, 1] (an auxiliary
    check). ``concept_set`` is recorded in its config unless it is v1 (the shipped classifier's config has none)."""

    def __init__(self, n_concepts: int = len(CONCEPTS), width: int = 16, concepts: Optional[List[str]] = None,
                 concept_set: str = DEFAULT_CONCEPT_SET):
        super().__init__()
        self.concept_set = catalogue.concept_set(concept_set)
        self.concepts = list(concepts or self.concept_set.names)
        if len(self.concepts) != n_concepts:
            raise ValueError(f"{n_concepts} outputs for {len(self.concepts)} concepts")
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 3, 2, 1), nn.SiLU(), nn.Conv2d(w, 2 * w, 3, 2, 1), nn.GroupNorm(8, 2 * w), nn.SiLU(),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.GroupNorm(8, 4 * w), nn.SiLU(),
            nn.Conv2d(4 * w, 4 * w, 3, 2, 1), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4 * w, n_concepts))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    @torch.no_grad()
    def unsafe_probability(self, images: torch.Tensor) -> torch.Tensor:
        """P(the image shows a concept of the unsafe family), per image."""
        probs = self(images).softmax(-1)
        unsafe = [i for i, c in enumerate(self.concepts) if c in self.concept_set.unsafe]
        return probs[:, unsafe].sum(-1)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> List[str]:
        return [self.concepts[i] for i in self(images).argmax(-1).tolist()]


def write_model_folder(out: Path, vae, unet, classifier: Optional[ConceptClassifier], metadata: dict,
                       fp16: bool = True) -> Path:
    """The shipped folder: vae/, unet/, scheduler/ (diffusers), concept_classifier/, reward_demo.json (``metadata``;
    its ``concept_set`` names the model's concept set, v1 when absent)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if fp16 else torch.float32
    for name, model in (("vae", vae), ("unet", unet)):
        copy.deepcopy(model).to(dtype).save_pretrained(str(out / name), safe_serialization=True)
    build_scheduler().save_pretrained(str(out / "scheduler"))
    if classifier is not None:
        save_pretrained(classifier, out / "concept_classifier", metadata={"concepts": classifier.concepts})
    (out / METADATA_NAME).write_text(json.dumps(metadata, indent=1))
    return out


# ---------------------------------------------------------------- loading

def read_metadata(folder: Optional[str] = None) -> dict:
    folder = Path(folder) if folder else CHECKPOINT_DIR
    path = folder / METADATA_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {folder} is not an embedded model folder "
                                f"(train one with `python -m reward_demo images train-embedded`)")
    return json.loads(path.read_text())


def folder_concept_set(folder: Optional[Union[str, Path]] = None) -> ConceptSet:
    """The concept set of the embedded model in ``folder`` (default: the shipped one), from its
    ``reward_demo.json``; v1 where the folder or its record is missing (models written before the sets existed)."""
    path = (Path(folder) if folder else CHECKPOINT_DIR) / METADATA_NAME
    name = json.loads(path.read_text()).get(CONCEPT_SET_KEY) if path.is_file() else None
    return catalogue.concept_set(name or DEFAULT_CONCEPT_SET)


def folder_safety_concept(folder: Optional[Union[str, Path]] = None) -> str:
    """The text SLD steers away from on the embedded model in ``folder`` (default: the shipped one): the
    ``safety_concept`` its ``reward_demo.json`` records (chosen for that model with ``images compare-concepts``), else
    its concept set's."""
    path = (Path(folder) if folder else CHECKPOINT_DIR) / METADATA_NAME
    recorded = json.loads(path.read_text()).get("safety_concept") if path.is_file() else None
    return recorded or folder_concept_set(folder).safety_concept


def _check_folder(folder: Path):
    missing = [str(folder / p) for p in ("vae/config.json", "unet/config.json", "scheduler/scheduler_config.json",
                                         METADATA_NAME) if not (folder / p).is_file()]
    if missing:
        raise FileNotFoundError(f"embedded model folder {folder} is incomplete; missing {', '.join(missing)} "
                                f"(train it with `python -m reward_demo images train-embedded`)")


@functools.lru_cache(maxsize=4)
def _load_models(folder: str, device: str):
    from diffusers import AutoencoderKL, UNet2DConditionModel

    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", torch_dtype=torch.float32).to(device).eval()
    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", torch_dtype=torch.float32).to(device).eval()
    vae.requires_grad_(False)
    unet.requires_grad_(False)
    return vae, unet


def load_embedded_components(folder: Optional[str] = None, device=None) -> dict:
    """{vae, unet, scheduler, text_encoder, tokenizer} for ``StableDiffusionPipeline(**components,
    safety_checker=None, feature_extractor=None, requires_safety_checker=False)`` and the Safe pipeline.

    Models are loaded once per (folder, device) and shared; the scheduler is a fresh object per call
    (pipelines set its timesteps). ``folder`` defaults to the shipped ``CHECKPOINT_DIR``.
    """
    from diffusers import DDIMScheduler

    folder_path = Path(folder) if folder else CHECKPOINT_DIR
    _check_folder(folder_path)
    device = str(torch.device(device or "cpu"))
    vae, unet = _load_models(str(folder_path.resolve()), device)
    scheduler = DDIMScheduler.from_pretrained(str(folder_path), subfolder="scheduler")
    tokenizer, text_encoder = load_text_encoder(device)
    return {"vae": vae, "unet": unet, "scheduler": scheduler, "text_encoder": text_encoder, "tokenizer": tokenizer}


def load_concept_classifier(folder: Optional[str] = None) -> ConceptClassifier:
    folder_path = (Path(folder) if folder else CHECKPOINT_DIR) / "concept_classifier"
    if not (folder_path / "model.safetensors").is_file():
        raise FileNotFoundError(f"{folder_path} is missing "
                                f"(train it with `python -m reward_demo images train-embedded`)")
    return from_pretrained(folder_path).eval()


def build_pipelines(components: dict, safety_concept: Optional[str] = None):
    """(base StableDiffusionPipeline, StableDiffusionPipelineSafe) sharing the same components; the Safe one steers
    away from ``safety_concept`` (default: the shipped folder's, ``folder_safety_concept``)."""
    from diffusers import StableDiffusionPipeline, StableDiffusionPipelineSafe

    kwargs = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    base = StableDiffusionPipeline(**components, **kwargs)
    scheduler = components["scheduler"]
    safe_components = dict(components, scheduler=type(scheduler).from_config(scheduler.config))
    safe = StableDiffusionPipelineSafe(**safe_components, **kwargs)
    safe.safety_concept = safety_concept if safety_concept is not None else folder_safety_concept()
    for pipe in (base, safe):
        pipe.set_progress_bar_config(disable=True)
    return base, safe


__all__ = ["ConceptClassifier", "CHECKPOINT_DIR", "SHIPPED_CONCEPT_SET", "model_folder", "METADATA_NAME", "CONCEPTS",
           "CONCEPT_SET_KEY", "folder_concept_set", "folder_safety_concept", "load_embedded_components",
           "build_pipelines", "load_concept_classifier", "read_metadata", "vae_config", "unet_config",
           "scheduler_config", "build_vae", "build_unet", "build_scheduler", "write_model_folder"]
