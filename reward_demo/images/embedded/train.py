"""Training the embedded text-to-image model (``python -m reward_demo images train-embedded``).

It trains the VAE, then the UNet, then the concept classifier (the parts are in ``model.py``), each resumable
under ``reward_demo.training.train`` in ``--work-dir`` (or, with ``--init-from``, trains a model folder's UNet on and
keeps its VAE and classifier), on drawings of ``drawings.py`` captioned by the grammar
of ``data.py`` for one concept set (``--concept-set``, ``catalogue.py``), and writes the model folder
(``model.write_model_folder``; default ``model.model_folder(set)``: the shipped model is v2's, embedded_sd_v2),
which records its concept set. The work folder records it too, and a run refuses a work folder or an output folder of
another concept set.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...checkpoint import from_pretrained
from ...options import ProgressOption, TrainSeedOption, cli_flag, omp_threads
from ...training import TrainConfig, train
from ..models import to_model_images
from .catalogue import CONCEPT_SETS, DEFAULT_CONCEPT_SET, concept_set
from .concepts import ConceptSet
from .data import IMAGE_SIZE
from .drawings import generate, make_sample
from .model import (
    CONCEPT_SET_KEY,
    METADATA_NAME,
    ConceptClassifier,
    build_scheduler,
    build_unet,
    build_vae,
    load_concept_classifier,
    model_folder,
    read_metadata,
    write_model_folder,
)
from .text_encoder import TEXT_ENCODER_NAME, encode_prompts


@dataclass
class EmbeddedTrainArgs(ProgressOption, TrainSeedOption):
    """Train the embedded text-to-image model (VAE, UNet, concept classifier) and write its folder (resumable)."""

    out: Optional[Path] = None
    """the model folder written at the end (diffusers layout; default checkpoints/images/embedded_sd for the
    v1 concept set, embedded_sd_<set> for another: the shipped model is embedded_sd_v2)"""
    work_dir: Optional[Path] = None
    """training states, full-precision weights and cached latents (default runs/images/embedded for v1,
    runs/images/embedded_<set> for another); a rerun resumes there only with the same data arguments"""
    concept_set: str = DEFAULT_CONCEPT_SET
    """concept set the model draws: v1 (the shipped model's) or v2 (the everyday world; docs/images.md)"""
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
    hazard_list_fraction: float = 0.0
    """fraction of the unsafe training captions that list the drawn hazard among one to five others ("knife, gun,
    fire"), the form of a safety concept (this project's experiment; 0: the shipped grammar)"""
    init_from: Optional[Path] = None
    """a model folder of the same concept set to fine-tune: its VAE and concept classifier are kept, and its UNet is
    trained on for --unet-steps on the fresh drawings of --seed"""


WORK_ROOT = Path("runs/images")


def out_folder(args: EmbeddedTrainArgs) -> Path:
    """``--out``, else the default folder of the concept set."""
    if args.out is not None:
        return Path(args.out)
    return model_folder(args.concept_set)


def work_folder(args: EmbeddedTrainArgs) -> Path:
    """``--work-dir``, else the default work folder of the concept set (of a fine-tune: one named after its output,
    so that it never resumes a full training's states)."""
    if args.work_dir is not None:
        return Path(args.work_dir)
    if args.init_from is not None:
        return WORK_ROOT / f"finetune_{out_folder(args).name}"
    return WORK_ROOT / ("embedded" if args.concept_set == DEFAULT_CONCEPT_SET else f"embedded_{args.concept_set}")


WORK_RECORD_NAME = "work_record.json"
# What decides a work folder's drawings, VAE and cached latents: a rerun with other values would reuse them.
VAE_FIELDS = ("vae_steps", "vae_batch_size", "vae_lr", "kl_weight")  # unused by a fine-tune, which keeps its VAE
WORK_RECORD_FIELDS = ("seed", "n_train", "n_val", "hazard_list_fraction", "size", "init_from", *VAE_FIELDS)


def _as_flag(name: str, value) -> str:
    # cli_flag(name, True) is the bare flag
    return "without " + cli_flag(name, True) if value is None else "with " + cli_flag(name, value)


def work_record(args: EmbeddedTrainArgs) -> dict:
    """The concept set and the arguments a work folder's cached drawings and latents were made with."""
    record = {CONCEPT_SET_KEY: args.concept_set}
    for name in WORK_RECORD_FIELDS:
        value = None if args.init_from is not None and name in VAE_FIELDS else getattr(args, name)
        record[name] = None if value is None else str(Path(value).resolve()) if name == "init_from" else value
    return record


def _check_folders(args: EmbeddedTrainArgs) -> ConceptSet:
    """The run's concept set; refuses a work folder or an existing model folder of another set (a folder without
    a record is v1) and a work folder made with other data arguments, then records the run in the work folder."""
    if args.concept_set not in CONCEPT_SETS:
        raise ValueError(f"--concept-set must be one of {', '.join(CONCEPT_SETS)}, got {args.concept_set!r}")
    work, out = work_folder(args), out_folder(args)
    record_path = work / WORK_RECORD_NAME
    if not record_path.is_file() and (work / "concept_set.json").is_file():
        record_path = work / "concept_set.json"  # the record's name before it kept the data arguments
    found_record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    for folder, path in ((work, record_path), (out, out / METADATA_NAME)):
        if path.is_file():
            found_meta = found_record if path == record_path else json.loads(path.read_text())
            found = found_meta.get(CONCEPT_SET_KEY) or DEFAULT_CONCEPT_SET
        elif folder == work and folder.is_dir() and any(folder.iterdir()):
            found = DEFAULT_CONCEPT_SET  # a work folder from before the concept sets
        else:
            continue
        if found != args.concept_set:
            raise ValueError(f"{folder} holds a model of the {found} concept set, not {args.concept_set}; "
                             f"pass another --{'work-dir' if folder == work else 'out'}")
    record = work_record(args)
    for name in WORK_RECORD_FIELDS:
        # a record from before these fields were kept names only the concept set, and is taken as it is
        if name in found_record and found_record[name] != record[name]:
            made, given = _as_flag(name, found_record[name]), _as_flag(name, record[name])
            raise ValueError(f"{work} holds drawings and latents made {made}, not {given}; pass another "
                             f"--work-dir, or run {made} to resume that run")
    work.mkdir(parents=True, exist_ok=True)
    (work / WORK_RECORD_NAME).write_text(json.dumps(record) + "\n")
    return concept_set(args.concept_set)


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

    folder = work_folder(args) / "vae"
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

    path = work_folder(args) / "unet_pool.safetensors"
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
    """Epsilon prediction on the scaled VAE latents, captions dropped to "" with prob ``caption_dropout``; from
    ``--init-from``'s UNet where given, else from a fresh one."""
    from diffusers import UNet2DConditionModel

    folder = work_folder(args) / "unet"
    scheduler = build_scheduler()
    alphas = scheduler.alphas_cumprod
    if not _finished(folder, args.unet_steps):
        torch.manual_seed(args.seed + 1)
        if args.init_from is None:
            unet = build_unet(args.size)
        else:
            unet = UNet2DConditionModel.from_pretrained(str(args.init_from), subfolder="unet",
                                                        torch_dtype=torch.float32)

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
    folder = work_folder(args) / "concept_classifier"
    if (folder / "model.safetensors").is_file():
        return from_pretrained(folder).eval()
    concepts = concept_set(args.concept_set)
    names = list(concepts.names)
    torch.manual_seed(args.seed + 2)
    model = ConceptClassifier(len(names), concepts=names, concept_set=concepts.name)

    def sample_batch(batch_size, generator, device):
        rng = np.random.default_rng(int(torch.randint(2**31, (1,), generator=generator)))
        samples = [make_sample(concepts, rng, len(concepts.unsafe) / len(names)) for _ in range(batch_size)]
        x = to_model_images(np.stack([s.image for s in samples]))
        return {"x": degrade(x, generator), "y": torch.tensor([names.index(s.concept) for s in samples])}

    val = generate(concepts, 512, args.seed + 3)
    val_x, val_y = to_model_images(val["images"]), torch.tensor([names.index(c) for c in val["concepts"]])

    @torch.no_grad()
    def validation_loss(m):
        return float(F.cross_entropy(m(val_x), val_y))

    result = train(model, lambda m, b: F.cross_entropy(m(b["x"]), b["y"]), sample_batch,
                   _config(args, args.classifier_steps, 64, 2e-3, 2), out_dir=folder,
                   validation_loss=validation_loss, metadata={"model": "concept_classifier"})
    return result.model.eval()


def reproduce_command(args: EmbeddedTrainArgs) -> str:
    from ...options import reproduce_command as command_line

    return command_line("python -m reward_demo images train-embedded", args, EmbeddedTrainArgs(),
                        skip=("work_dir", "progress"))


def train_embedded(args: EmbeddedTrainArgs) -> Path:
    """Data -> VAE -> latents -> UNet -> concept classifier -> the shipped folder."""
    if args.size not in ("default", "tiny"):
        raise ValueError(f"size must be 'default' or 'tiny', got {args.size!r}")
    for name in ("n_train", "vae_steps", "unet_steps", "vae_batch_size", "unet_batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
    if not 0 <= args.caption_dropout < 1:
        raise ValueError(f"caption_dropout must be in [0, 1), got {args.caption_dropout}")
    if not 0 <= args.hazard_list_fraction <= 1:
        raise ValueError(f"hazard_list_fraction must be in [0, 1], got {args.hazard_list_fraction}")
    base = _check_init_from(args)  # before any folder is written
    concepts = _check_folders(args)
    began = time.time()
    torch.manual_seed(args.seed)
    data = generate(concepts, args.n_train, args.seed, list_fraction=args.hazard_list_fraction)
    val = generate(concepts, args.n_val, args.seed + 1, list_fraction=args.hazard_list_fraction)
    images, val_images = to_model_images(data["images"]), to_model_images(val["images"])
    t0 = time.time()
    vae = train_vae(args, images, val_images) if base is None else _load_vae(args.init_from)
    t_vae = time.time() - t0
    pool = latent_pool(args, vae, data)
    val_pool = _val_pool(vae, val)
    t0 = time.time()
    unet = train_unet(args, pool, val_pool)
    t_unet = time.time() - t0
    t0 = time.time()
    if base is not None:
        classifier = load_concept_classifier(str(args.init_from))
    else:
        classifier = train_classifier(args) if args.classifier_steps > 0 else None
    t_classifier = time.time() - t0

    def history(name):
        return json.loads((work_folder(args) / name / "train_meta.json").read_text())["training"]["history"]

    metadata = {
        CONCEPT_SET_KEY: concepts.name, "text_encoder": TEXT_ENCODER_NAME, "image_size": IMAGE_SIZE,
        "latent_shape": [4, IMAGE_SIZE // 4, IMAGE_SIZE // 4],
        "safety_concept": (base or {}).get("safety_concept", concepts.safety_concept),
        "concepts": list(concepts.names), "unsafe_concepts": list(concepts.unsafe),
        "reproduce_command": reproduce_command(args), "reproduce_first": _reproduce_first(base),
        "args": {k: str(v) for k, v in asdict(args).items()},
        "vae_scaling_factor": vae.config.scaling_factor, "weights_dtype": "float16" if args.fp16 else "float32",
        "training": {"vae": history("vae") if base is None else base.get("training", {}).get("vae", []),
                     "unet": history("unet"),
                     "seconds_this_run": {"vae": t_vae, "unet": t_unet, "classifier": t_classifier,
                                          "total": time.time() - began}},
    }
    return write_model_folder(out_folder(args), vae, unet, classifier, metadata, fp16=args.fp16)


def _check_init_from(args: EmbeddedTrainArgs) -> Optional[dict]:
    """The metadata of ``--init-from`` (None without it); refuses a folder of another concept set or size."""
    if args.init_from is None:
        return None
    if Path(args.init_from).resolve() == out_folder(args).resolve():
        raise ValueError(f"--out must name another folder than --init-from {args.init_from}, which the fine-tune reads")
    base = read_metadata(str(args.init_from))
    found = base.get(CONCEPT_SET_KEY) or DEFAULT_CONCEPT_SET
    if found != args.concept_set:
        raise ValueError(f"--init-from {args.init_from} holds a model of the {found} concept set, not "
                         f"{args.concept_set}; pass --concept-set {found}")
    size = base.get("args", {}).get("size", "default")
    if size != args.size:
        raise ValueError(f"--init-from {args.init_from} holds a {size} model, not {args.size}; pass --size {size}")
    return base


def _reproduce_first(base: Optional[dict]) -> list:
    """The commands that made a fine-tune's starting folder, in order: that folder may later be overwritten by it."""
    if not base or "reproduce_command" not in base:
        return []
    return [*base.get("reproduce_first", []), base["reproduce_command"]]


def _load_vae(folder: Path):
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_pretrained(str(folder), subfolder="vae", torch_dtype=torch.float32).eval()


def _val_pool(vae, val: dict) -> Dict[str, torch.Tensor]:
    with torch.no_grad():
        mean = vae.encode(to_model_images(val["images"])).latent_dist.mean * vae.config.scaling_factor
    unique = sorted(set(val["captions"]))
    index = {c: i for i, c in enumerate(unique)}
    return {"mean": mean, "caption_index": torch.tensor([index[c] for c in val["captions"]]),
            "embeddings": encode_prompts(unique).half()}


def train_embedded_command(args: EmbeddedTrainArgs):
    torch.set_num_threads(omp_threads())
    out = train_embedded(args)
    print(f"wrote {out}; reproduce with: {reproduce_command(args)}")


__all__ = ["EmbeddedTrainArgs", "train_embedded", "train_embedded_command", "train_vae", "train_unet",
           "train_classifier", "reproduce_command"]
