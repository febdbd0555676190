"""The embedded default text-to-image model: a small latent diffusion model in diffusers' layout.

Stable Diffusion's weights are not on this machine, so the Images tab ships its own: trained here
on the captioned drawings of ``data.py``, with the same parts as Stable Diffusion 1.x so that
``StableDiffusionPipeline`` and ``StableDiffusionPipelineSafe`` run on it unchanged:

- text encoder: the frozen pretrained all-MiniLM-L6-v2 (``text_encoder.py``; 384-d token states);
- VAE: ``AutoencoderKL``, 64x64x3 images <-> 16x16x4 latents (``scaling_factor`` = 1 / the measured
  latent standard deviation), trained on reconstruction + a small KL term;
- UNet: ``UNet2DConditionModel`` on 16x16x4 latents, cross-attention (dim 384) at 8x8 and 4x4,
  epsilon prediction, 10 % of captions dropped to the empty prompt (classifier-free guidance);
- scheduler: ``DDIMScheduler`` with Stable Diffusion's betas (stateless, so a chain can be stepped
  from any latent).

``python -m reward_demo images train-embedded`` trains the VAE, then the UNet, then a small concept
classifier used to check the images (``ConceptClassifier``), all resumable under
``reward_demo.training.train``; it writes the shipped folder (default ``checkpoints/images/embedded_sd``):
``vae/``, ``unet/``, ``scheduler/`` (diffusers ``save_pretrained``, safetensors), ``concept_classifier/``
and ``reward_demo.json`` (text encoder, image size, safety concept, reproduce command, training log).
``load_embedded_components()`` returns the pipeline components.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..checkpoint import from_pretrained, register, save_pretrained
from ..training import TrainConfig, train
from .data import IMAGE_SIZE, SAFETY_CONCEPT, TRAIN_CONCEPTS, UNSAFE_CONCEPTS, generate, make_sample
from .text_encoder import HIDDEN_SIZE, TEXT_ENCODER_NAME, encode_prompts, load_text_encoder

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT_DIR = ROOT / "checkpoints" / "images" / "embedded_sd"
METADATA_NAME = "reward_demo.json"
CONCEPTS: List[str] = list(TRAIN_CONCEPTS)


@dataclass
class EmbeddedTrainArgs:
    """Train the embedded text-to-image model (VAE, UNet, concept classifier) and write its folder (resumable)."""

    out: Path = CHECKPOINT_DIR
    """the model folder written at the end (diffusers layout)"""
    work_dir: Path = Path("runs/images/embedded")
    """training states, full-precision weights and cached latents"""
    size: str = "default"
    """model size: default, or tiny (tests)"""
    n_train: int = 20_000
    """training images (drawn once from seed SEED)"""
    n_val: int = 256
    """validation images (seed SEED + 1)"""
    vae_steps: int = 1_000
    """VAE training steps"""
    vae_batch_size: int = 16
    """VAE batch size"""
    vae_lr: float = 1e-3
    """VAE learning rate"""
    kl_weight: float = 1e-6
    """weight of the KL term (summed over latent elements) against the pixel MSE"""
    unet_steps: int = 3_600
    """UNet training steps"""
    unet_batch_size: int = 64
    """UNet batch size"""
    unet_lr: float = 5e-4
    """UNet learning rate"""
    caption_dropout: float = 0.1
    """fraction of captions replaced by the empty prompt (for classifier-free guidance)"""
    classifier_steps: int = 4_000
    """concept classifier training steps"""
    ema_decay: float = 0.995
    """EMA decay of the weights"""
    fp16: bool = True
    """ship the VAE and UNet weights in float16 (loaded back as float32)"""
    seed: int = 0
    """seed of data, weights and batches"""
    progress: bool = True
    """show progress bars"""


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


@register
class ConceptClassifier(nn.Module):
    """A small CNN telling the drawn concepts apart on 64x64 images in [-1, 1] (an auxiliary check)."""

    def __init__(self, n_concepts: int = len(CONCEPTS), width: int = 16, concepts: Optional[List[str]] = None):
        super().__init__()
        self.concepts = list(concepts or CONCEPTS)
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
        unsafe = [i for i, c in enumerate(self.concepts) if c in UNSAFE_CONCEPTS]
        return probs[:, unsafe].sum(-1)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> List[str]:
        return [self.concepts[i] for i in self(images).argmax(-1).tolist()]


# ---------------------------------------------------------------- data helpers

def to_model_images(images_uint8: np.ndarray) -> torch.Tensor:
    """(n, 64, 64, 3) uint8 -> (n, 3, 64, 64) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images_uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def images_from_pipeline_output(images) -> torch.Tensor:
    """PIL images, or numpy (n, H, W, 3) in [0, 1] (``output_type="np"``) -> (n, 3, H, W) in [-1, 1]."""
    if isinstance(images, np.ndarray):
        return torch.from_numpy(images).permute(0, 3, 1, 2).float() * 2 - 1
    return to_model_images(np.stack([np.asarray(im.convert("RGB")) for im in images]))


def red_orange_fraction(images: torch.Tensor) -> torch.Tensor:
    """Per image, the fraction of strongly red or orange pixels (the blood and fire colours).

    A pixel counts when red > 0.6 (on [0, 1]), green < 0.6 red and blue < 0.35 red: no harmless
    colour of ``data.COLOURS`` (pink, brown, yellow included) passes, blood and flames do.
    """
    x = (images.clamp(-1, 1) + 1) / 2
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return ((r > 0.6) & (g < 0.6 * r) & (b < 0.35 * r)).float().mean((1, 2))


# ---------------------------------------------------------------- training

def _config(args: EmbeddedTrainArgs, steps: int, batch: int, lr: float, seed_offset: int) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=batch, lr=lr, ema_decay=args.ema_decay,
                       eval_every=max(1, min(250, steps)), save_every=max(1, min(250, steps)),
                       seed=args.seed + seed_offset, cpu=True, progress=args.progress)


def _finished(folder: Path, steps: int) -> bool:
    meta = folder / "train_meta.json"
    return meta.is_file() and json.loads(meta.read_text())["training"]["steps"] == steps


def _save_diffusers(model, folder: Path, meta: dict):
    model.save_pretrained(str(folder), safe_serialization=True)
    (folder / "train_meta.json").write_text(json.dumps(meta, indent=1))


def train_vae(args: EmbeddedTrainArgs, images: torch.Tensor, val_images: torch.Tensor):
    """Reconstruction (pixel MSE) + kl_weight * KL; then sets ``scaling_factor`` from the latent std."""
    from diffusers import AutoencoderKL

    folder = Path(args.work_dir) / "vae"
    if not _finished(folder, args.vae_steps):
        torch.manual_seed(args.seed)
        vae = build_vae(args.size)

        def sample_batch(batch_size, generator, device):
            return {"x": images[torch.randint(len(images), (batch_size,), generator=generator)].to(device)}

        def loss_fn(model, batch):
            posterior = model.encode(batch["x"]).latent_dist
            recon = model.decode(posterior.sample()).sample
            return F.mse_loss(recon, batch["x"]) + args.kl_weight * posterior.kl().mean()

        @torch.no_grad()
        def validation_loss(model):
            return float(F.mse_loss(model.decode(model.encode(val_images).latent_dist.mode()).sample, val_images))

        train(vae, loss_fn, sample_batch, _config(args, args.vae_steps, args.vae_batch_size, args.vae_lr, 0),
              out_dir=folder, validation_loss=validation_loss, metadata={"model": "vae"}, save_final=_save_diffusers)
    vae = AutoencoderKL.from_pretrained(str(folder)).eval()
    if vae.config.scaling_factor == 1.0:
        with torch.no_grad():
            latents = torch.cat([vae.encode(images[i:i + 256]).latent_dist.sample()
                                 for i in range(0, min(2048, len(images)), 256)])
        vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
        vae.save_pretrained(str(folder), safe_serialization=True)
    return vae


def latent_pool(args: EmbeddedTrainArgs, vae, data: dict) -> Dict[str, torch.Tensor]:
    """Posterior means/stds of every training image, and the prompt embeddings (cached in work_dir)."""
    from safetensors.torch import load_file, save_file

    path = Path(args.work_dir) / "unet_pool.safetensors"
    if path.is_file():
        return load_file(str(path))
    images = to_model_images(data["images"])
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, len(images), 256):
            dist = vae.encode(images[i:i + 256]).latent_dist
            means.append(dist.mean * vae.config.scaling_factor)
            stds.append(dist.std * vae.config.scaling_factor)
    unique = sorted(set(data["captions"]))
    index = {c: i for i, c in enumerate(unique)}
    embeddings = encode_prompts([""] + unique).half()  # row 0: the empty prompt
    pool = {"mean": torch.cat(means).contiguous(), "std": torch.cat(stds).contiguous(),
            "caption_index": torch.tensor([index[c] + 1 for c in data["captions"]]),
            "embeddings": embeddings.contiguous()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(pool, str(path))
    return pool


def train_unet(args: EmbeddedTrainArgs, pool: Dict[str, torch.Tensor], val_pool: Dict[str, torch.Tensor]):
    """Epsilon prediction on the scaled VAE latents, captions dropped to "" with prob ``caption_dropout``."""
    from diffusers import UNet2DConditionModel

    folder = Path(args.work_dir) / "unet"
    scheduler = build_scheduler()
    alphas = scheduler.alphas_cumprod
    if not _finished(folder, args.unet_steps):
        torch.manual_seed(args.seed + 1)
        unet = build_unet(args.size)

        def sample_batch(batch_size, generator, device):
            idx = torch.randint(len(pool["mean"]), (batch_size,), generator=generator)
            latents = pool["mean"][idx] + pool["std"][idx] * torch.randn(pool["mean"][idx].shape, generator=generator)
            captions = pool["caption_index"][idx]
            drop = torch.rand(batch_size, generator=generator) < args.caption_dropout
            captions = torch.where(drop, torch.zeros_like(captions), captions)
            return {"latents": latents, "context": pool["embeddings"][captions].float()}

        def denoising_loss(model, latents, context, t, noise):
            a = alphas[t].view(-1, 1, 1, 1)
            noisy = a.sqrt() * latents + (1 - a).sqrt() * noise
            return F.mse_loss(model(noisy, t, context).sample, noise)

        def loss_fn(model, batch):
            n = len(batch["latents"])
            return denoising_loss(model, batch["latents"], batch["context"], torch.randint(0, 1000, (n,)),
                                  torch.randn_like(batch["latents"]))

        g = torch.Generator().manual_seed(12345)
        val_t = torch.randint(0, 1000, (len(val_pool["mean"]),), generator=g)
        val_noise = torch.randn(val_pool["mean"].shape, generator=g)
        val_context = val_pool["embeddings"][val_pool["caption_index"]].float()

        @torch.no_grad()
        def validation_loss(model):
            return float(denoising_loss(model, val_pool["mean"], val_context, val_t, val_noise))

        train(unet, loss_fn, sample_batch, _config(args, args.unet_steps, args.unet_batch_size, args.unet_lr, 1),
              out_dir=folder, validation_loss=validation_loss, metadata={"model": "unet"}, save_final=_save_diffusers)
    return UNet2DConditionModel.from_pretrained(str(folder)).eval()


def degrade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random blur and noise, so that the classifier also reads the blurry images a small model makes."""
    blurred = F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), 3, 1)
    choose = (torch.rand(len(images), 1, 1, 1, generator=generator) < 0.5).float()
    noise = 0.08 * torch.rand(len(images), 1, 1, 1, generator=generator)
    noisy = choose * blurred + (1 - choose) * images + noise * torch.randn(images.shape, generator=generator)
    return noisy.clamp(-1, 1)


def train_classifier(args: EmbeddedTrainArgs) -> ConceptClassifier:
    """Concept classifier on freshly drawn images (every batch new), with blur/noise augmentation."""
    folder = Path(args.work_dir) / "concept_classifier"
    if (folder / "model.safetensors").is_file():
        return from_pretrained(folder).eval()
    torch.manual_seed(args.seed + 2)
    model = ConceptClassifier()

    def sample_batch(batch_size, generator, device):
        rng = np.random.default_rng(int(torch.randint(2**31, (1,), generator=generator)))
        samples = [make_sample(rng, unsafe_fraction=len(UNSAFE_CONCEPTS) / len(CONCEPTS)) for _ in range(batch_size)]
        x = to_model_images(np.stack([s.image for s in samples]))
        return {"x": degrade(x, generator), "y": torch.tensor([CONCEPTS.index(s.concept) for s in samples])}

    val = generate(512, args.seed + 3)
    val_x, val_y = to_model_images(val["images"]), torch.tensor([CONCEPTS.index(c) for c in val["concepts"]])

    @torch.no_grad()
    def validation_loss(m):
        return float(F.cross_entropy(m(val_x), val_y))

    result = train(model, lambda m, b: F.cross_entropy(m(b["x"]), b["y"]), sample_batch,
                   _config(args, args.classifier_steps, 64, 2e-3, 2), out_dir=folder,
                   validation_loss=validation_loss, metadata={"model": "concept_classifier"})
    return result.model.eval()


def reproduce_command(args: EmbeddedTrainArgs) -> str:
    from ..cli import reproduce_command as command_line

    return command_line("python -m reward_demo images train-embedded", args, EmbeddedTrainArgs(),
                        skip=("work_dir", "progress"))


def write_model_folder(out: Path, vae, unet, classifier: Optional[ConceptClassifier], metadata: dict,
                       fp16: bool = True) -> Path:
    """The shipped folder: vae/, unet/, scheduler/ (diffusers), concept_classifier/, reward_demo.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if fp16 else torch.float32
    for name, model in (("vae", vae), ("unet", unet)):
        copy.deepcopy(model).to(dtype).save_pretrained(str(out / name), safe_serialization=True)
    build_scheduler().save_pretrained(str(out / "scheduler"))
    if classifier is not None:
        save_pretrained(classifier, out / "concept_classifier", metadata={"concepts": CONCEPTS})
    (out / METADATA_NAME).write_text(json.dumps(metadata, indent=1))
    return out


def train_embedded(args: EmbeddedTrainArgs) -> Path:
    """Data -> VAE -> latents -> UNet -> concept classifier -> the shipped folder."""
    if args.size not in ("default", "tiny"):
        raise ValueError(f"size must be 'default' or 'tiny', got {args.size!r}")
    for name in ("n_train", "vae_steps", "unet_steps", "vae_batch_size", "unet_batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
    if not 0 <= args.caption_dropout < 1:
        raise ValueError(f"caption_dropout must be in [0, 1), got {args.caption_dropout}")
    began = time.time()
    torch.manual_seed(args.seed)
    data, val = generate(args.n_train, args.seed), generate(args.n_val, args.seed + 1)
    images, val_images = to_model_images(data["images"]), to_model_images(val["images"])
    t0 = time.time()
    vae = train_vae(args, images, val_images)
    t_vae = time.time() - t0
    pool = latent_pool(args, vae, data)
    val_pool = _val_pool(vae, val)
    t0 = time.time()
    unet = train_unet(args, pool, val_pool)
    t_unet = time.time() - t0
    t0 = time.time()
    classifier = train_classifier(args) if args.classifier_steps > 0 else None
    t_classifier = time.time() - t0

    def history(name):
        return json.loads((Path(args.work_dir) / name / "train_meta.json").read_text())["training"]["history"]

    metadata = {
        "text_encoder": TEXT_ENCODER_NAME, "image_size": IMAGE_SIZE,
        "latent_shape": [4, IMAGE_SIZE // 4, IMAGE_SIZE // 4],
        "safety_concept": SAFETY_CONCEPT, "concepts": CONCEPTS, "unsafe_concepts": list(UNSAFE_CONCEPTS),
        "reproduce_command": reproduce_command(args), "args": {k: str(v) for k, v in asdict(args).items()},
        "vae_scaling_factor": vae.config.scaling_factor, "weights_dtype": "float16" if args.fp16 else "float32",
        "training": {"vae": history("vae"), "unet": history("unet"),
                     "seconds_this_run": {"vae": t_vae, "unet": t_unet, "classifier": t_classifier,
                                          "total": time.time() - began}},
    }
    return write_model_folder(args.out, vae, unet, classifier, metadata, fp16=args.fp16)


def _val_pool(vae, val: dict) -> Dict[str, torch.Tensor]:
    with torch.no_grad():
        mean = vae.encode(to_model_images(val["images"])).latent_dist.mean * vae.config.scaling_factor
    unique = sorted(set(val["captions"]))
    index = {c: i for i, c in enumerate(unique)}
    return {"mean": mean, "caption_index": torch.tensor([index[c] for c in val["captions"]]),
            "embeddings": encode_prompts(unique).half()}


def train_embedded_command(args: EmbeddedTrainArgs):
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = train_embedded(args)
    print(f"wrote {out}; reproduce with: {reproduce_command(args)}")


# ---------------------------------------------------------------- loading

def read_metadata(folder: Optional[str] = None) -> dict:
    folder = Path(folder) if folder else CHECKPOINT_DIR
    path = folder / METADATA_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {folder} is not an embedded model folder "
                                f"(train one with `python -m reward_demo images train-embedded`)")
    return json.loads(path.read_text())


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
    (pipelines set its timesteps). ``folder`` defaults to the shipped ``checkpoints/images/embedded_sd``.
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


def build_pipelines(components: dict):
    """(base StableDiffusionPipeline, StableDiffusionPipelineSafe) sharing the same components."""
    from diffusers import StableDiffusionPipeline, StableDiffusionPipelineSafe

    kwargs = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    base = StableDiffusionPipeline(**components, **kwargs)
    scheduler = components["scheduler"]
    safe_components = dict(components, scheduler=type(scheduler).from_config(scheduler.config))
    safe = StableDiffusionPipelineSafe(**safe_components, **kwargs)
    safe.safety_concept = SAFETY_CONCEPT
    for pipe in (base, safe):
        pipe.set_progress_bar_config(disable=True)
    return base, safe


__all__ = ["EmbeddedTrainArgs", "ConceptClassifier", "CHECKPOINT_DIR", "load_embedded_components", "build_pipelines",
           "load_concept_classifier", "read_metadata", "train_embedded", "train_embedded_command", "vae_config",
           "unet_config", "scheduler_config", "build_vae", "build_unet", "build_scheduler", "write_model_folder",
           "red_orange_fraction", "images_from_pipeline_output", "to_model_images"]
