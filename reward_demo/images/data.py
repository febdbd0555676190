"""The Images domain's data: the two samplers' reverse chains for Algorithm 2 (states visited by the models' own
chains), recorded (``images record``, ``record_command``), saved as safetensors shards and loaded back
(``ChainRecord``, ``load_records``), and the prompt files they are recorded from (``read_prompts_file``).

For each prompt and each reverse step i, from one latent x_i we record

- the *unguided* next latent: one DDIM step with plain classifier-free guidance (what
  ``StableDiffusionPipeline`` computes from x_i), and
- the *safety-guided* next latent: one DDIM step with Safe Latent Diffusion guidance (what
  ``StableDiffusionPipelineSafe`` computes from x_i, with its SLD momentum carried along the chain).

Both come from one run of the stock ``StableDiffusionPipelineSafe``: a forward hook on its UNet keeps the
noise predictions of the step ([unconditional, prompt, safety concept] in one batch), and its per-step
``callback(step, timestep, latents)`` receives the safety-guided next latent; from the same noise
predictions the unguided next latent is ``scheduler.step(uncond + w * (text - uncond), t, x_i)``, the
exact formula of ``StableDiffusionPipeline`` (a test checks the two agree). Nothing of diffusers is
forked: the pipeline runs unchanged.

A chain *follows* either sampler: ``follow="safe"`` continues from the safety-guided latent (the
expert's own chain); ``follow="base"`` writes the unguided latent into the pipeline's latents in place
from the callback, so the run walks Stable Diffusion's own chain while SLD is still evaluated (with its
momentum) at every visited latent. Recording both covers the states of both models, as Algorithm 2 asks.
"""
from __future__ import annotations

import csv
import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from safetensors.torch import load_file, save_file

from ..options import GuidanceScaleOption, ImageModelOption, ProgressOption, SamplerOptions
from .models import embedded_concept_set, load_pipelines, prompt_batches, resolve_model, safety_preset

DATA_DIR = Path("data/images/chains")
MANIFEST = "manifest.json"
FOLLOW = ("safe", "base")
MIN_STEPS, MAX_STEPS = 2, 200
DEFAULT_GUIDANCE = 7.5


def check_generation_args(prompts: Sequence[str], n_steps: int, preset: str, guidance_scale: float) -> Dict[str, float]:
    """Validate common generation arguments; returns the SLD keyword arguments of the preset."""
    if isinstance(prompts, str):
        raise ValueError("prompts must be a list of strings, not one string")
    if len(prompts) == 0:
        raise ValueError("the prompt list is empty: give at least one prompt")
    bad = [p for p in prompts if not isinstance(p, str) or not p.strip()]
    if bad:
        raise ValueError(f"every prompt must be a non-empty string; got {bad[:3]!r}")
    if not isinstance(n_steps, int) or not MIN_STEPS <= n_steps <= MAX_STEPS:
        raise ValueError(f"n_steps must be an integer in {MIN_STEPS}..{MAX_STEPS}, got {n_steps!r}")
    if not (isinstance(guidance_scale, (int, float)) and 1.0 < float(guidance_scale) <= 50.0):
        raise ValueError(f"guidance_scale must be in (1, 50] (Safe Latent Diffusion needs classifier-free "
                         f"guidance), got {guidance_scale!r}")
    return safety_preset(preset)


def latent_shape(pipe) -> tuple:
    """(channels, height, width) of the latents the pipeline samples at its default image size."""
    size = pipe.unet.config.sample_size
    size = (size, size) if isinstance(size, int) else tuple(size)
    return (pipe.unet.config.in_channels, *size)


def initial_latents(pipe, seeds: Sequence[int]) -> torch.Tensor:
    """x_T for each seed, drawn on the CPU from its own generator (independent of batching and device)."""
    shape = latent_shape(pipe)
    noise = torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(int(s))) for s in seeds])
    return (noise * pipe.scheduler.init_noise_sigma).to(pipe.device, pipe.unet.dtype)


def image_size(pipe) -> tuple:
    _, h, w = latent_shape(pipe)
    return h * pipe.vae_scale_factor, w * pipe.vae_scale_factor


def noise_levels(timesteps: torch.Tensor, num_train_timesteps: int) -> torch.Tensor:
    """The training timestep describing the noise of the latent *after* each reverse step (0 = clean).

    A DDIM step from timestep t lands on t - T / n_steps (the last one on the clean latent); the reward
    takes this level as its time input, so it applies to chains of any step count.
    """
    timesteps = torch.as_tensor(timesteps).cpu().long()
    stride = num_train_timesteps // len(timesteps)
    return (timesteps - stride).clamp(min=0)


@dataclass
class ChainRecord:
    """Recorded chains: row k is one (prompt, seed, followed sampler); step i goes from x_i to x_{i+1}."""

    prompts: List[str]
    seeds: List[int]
    follow: List[str]
    initial: torch.Tensor
    """x_0 of every chain (N, C, h, w)"""
    unguided_next: torch.Tensor
    """plain CFG next latent from x_i (N, S, C, h, w)"""
    safe_next: torch.Tensor
    """SLD next latent from the same x_i (N, S, C, h, w)"""
    timesteps: torch.Tensor
    """scheduler timestep of each step (S,)"""
    levels: torch.Tensor
    """noise level (training timestep) of the next latents of each step (S,)"""
    meta: dict = field(default_factory=dict)
    labels: List[str] = field(default_factory=list)
    """"safe" / "unsafe" per row when the prompt's label is known, else empty"""

    def __post_init__(self):
        if not self.labels:
            self.labels = [""] * len(self.prompts)

    @property
    def states(self) -> torch.Tensor:
        """x_i, the latent each step starts from (N, S, C, h, w)."""
        followed = torch.where(self._follows_safe()[:, None, None, None, None], self.safe_next, self.unguided_next)
        return torch.cat([self.initial[:, None], followed[:, :-1]], dim=1)

    def _follows_safe(self) -> torch.Tensor:
        return torch.tensor([f == "safe" for f in self.follow])

    def __len__(self) -> int:
        return len(self.prompts)

    def select(self, rows: Sequence[int]) -> "ChainRecord":
        rows = list(rows)
        index = torch.as_tensor(rows, dtype=torch.long)
        return ChainRecord([self.prompts[i] for i in rows], [self.seeds[i] for i in rows],
                           [self.follow[i] for i in rows], self.initial[index], self.unguided_next[index],
                           self.safe_next[index], self.timesteps, self.levels, dict(self.meta),
                           [self.labels[i] for i in rows])

    @staticmethod
    def concat(records: Sequence["ChainRecord"]) -> "ChainRecord":
        first = records[0]
        for other in records[1:]:
            if not torch.equal(other.timesteps, first.timesteps):
                raise ValueError("cannot concatenate chains recorded with different step counts")
        return ChainRecord(sum((r.prompts for r in records), []), sum((r.seeds for r in records), []),
                           sum((r.follow for r in records), []), torch.cat([r.initial for r in records]),
                           torch.cat([r.unguided_next for r in records]), torch.cat([r.safe_next for r in records]),
                           first.timesteps, first.levels, dict(first.meta), sum((r.labels for r in records), []))

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"initial": self.initial, "unguided_next": self.unguided_next, "safe_next": self.safe_next,
                   "timesteps": self.timesteps, "levels": self.levels}
        metadata = {"prompts": json.dumps(self.prompts), "seeds": json.dumps(self.seeds),
                    "follow": json.dumps(self.follow), "meta": json.dumps(self.meta),
                    "labels": json.dumps(self.labels)}
        tmp = path.with_suffix(".tmp")
        save_file({k: v.detach().cpu().float().contiguous() if v.is_floating_point() else v.cpu().contiguous()
                   for k, v in tensors.items()}, str(tmp), metadata=metadata)
        tmp.replace(path)  # a run killed mid-write leaves no half shard
        return path

    @classmethod
    def load(cls, path: Path) -> "ChainRecord":
        from safetensors import safe_open

        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata()
        tensors = load_file(str(path))
        return cls(json.loads(metadata["prompts"]), json.loads(metadata["seeds"]), json.loads(metadata["follow"]),
                   tensors["initial"], tensors["unguided_next"], tensors["safe_next"], tensors["timesteps"],
                   tensors["levels"], json.loads(metadata["meta"]), json.loads(metadata.get("labels", "[]")))


def rows_of(record: ChainRecord, prompts: Sequence[str]) -> List[int]:
    """The rows of ``record`` whose prompt is one of ``prompts``."""
    wanted = set(prompts)
    return [i for i, p in enumerate(record.prompts) if p in wanted]


def standardization_stats(record: ChainRecord) -> Tuple[List[float], List[List[float]], List[List[float]]]:
    """(levels ascending, mean (L, C), std (L, C)) of the next latents (unguided and safe) at every level."""
    both = torch.cat([record.unguided_next, record.safe_next])  # (2N, S, C, h, w)
    mean = both.mean(dim=(0, 3, 4))
    std = both.std(dim=(0, 3, 4)).clamp(min=1e-4)
    order = torch.argsort(record.levels)
    return ([float(v) for v in record.levels[order]], mean[order].tolist(), std[order].tolist())


def final_latents(record: ChainRecord) -> Dict[str, torch.Tensor]:
    """Final latents of a record's chains: {"base": rows following SD, "safe": rows following SLD} with their rows."""
    rows_base = [i for i, f in enumerate(record.follow) if f == "base"]
    rows_safe = [i for i, f in enumerate(record.follow) if f == "safe"]
    return {"base": record.unguided_next[rows_base, -1], "safe": record.safe_next[rows_safe, -1],
            "base_rows": torch.tensor(rows_base, dtype=torch.long),
            "safe_rows": torch.tensor(rows_safe, dtype=torch.long)}


#: what chains must share to be trained on together (a folder's other options, its caption draw and seed, may differ)
SHARED_RECORDING = ("n_steps", "preset", "guidance_scale", "safety_concept", "latent_shape", "model")


def load_records(folders: Union[Path, Sequence[Path]]) -> ChainRecord:
    """All shards ``*.safetensors`` of one recording folder, or of several in the order given, concatenated in name
    order; several folders must have been recorded with the same model and sampler settings (``SHARED_RECORDING``)."""
    folders = [Path(folders)] if isinstance(folders, (str, Path)) else [Path(f) for f in folders]
    if not folders:
        raise ValueError("data: give at least one folder of recorded chains")
    records = []
    for folder in folders:
        shards = sorted(folder.glob("*.safetensors"))
        if not shards:
            raise FileNotFoundError(f"no recorded chains (*.safetensors) in {folder}: run "
                                    f"`python -m reward_demo images record` first")
        records.append(ChainRecord.concat([ChainRecord.load(p) for p in shards]))
    for folder, record in zip(folders[1:], records[1:]):
        differ = [k for k in SHARED_RECORDING if record.meta.get(k) != records[0].meta.get(k)]
        if differ:
            values = ", ".join(f"{k} {record.meta.get(k)!r} vs {records[0].meta.get(k)!r}" for k in differ)
            raise ValueError(f"data: {folder} was recorded with other {', '.join(differ)} than {folders[0]} "
                             f"({values}); chains trained on together must share them")
    return ChainRecord.concat(records)


class _NoisePredictionTap:
    """Keeps the last output of a UNet (a forward hook; removed on exit)."""

    def __init__(self, unet):
        self.unet, self.value, self.handle = unet, None, None

    def __enter__(self):
        def hook(module, args, output):
            self.value = (output.sample if hasattr(output, "sample") else output[0]).detach()

        self.handle = self.unet.register_forward_hook(hook)
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def run_safe_recording(safe, prompts: Sequence[str], latents: torch.Tensor, n_steps: int, guidance_scale: float,
                       sld: Dict[str, float], follow: str = "safe", on_step: Optional[Callable[[], None]] = None,
                       output_type: str = "pil"):
    """Run ``StableDiffusionPipelineSafe`` once from ``latents``, recording every step.

    Returns (pipeline output, unguided_next (B, S, C, h, w), safe_next (B, S, C, h, w), timesteps (S,)).
    """
    if follow not in FOLLOW:
        raise ValueError(f"follow must be one of {FOLLOW}, got {follow!r}")
    scheduler = safe.scheduler
    current = {"x": latents.clone()}
    unguided, guided, timesteps = [], [], []
    with _NoisePredictionTap(safe.unet) as tap:

        def callback(step: int, t, next_latents: torch.Tensor):
            noise_uncond, noise_text = tap.value.chunk(tap.value.shape[0] // next_latents.shape[0])[:2]
            cfg = noise_uncond + guidance_scale * (noise_text - noise_uncond)
            plain = scheduler.step(cfg, t, current["x"], eta=0.0).prev_sample
            unguided.append(plain.detach().float().cpu().clone())
            guided.append(next_latents.detach().float().cpu().clone())  # copied before any in-place change
            timesteps.append(int(t))
            if follow == "base":
                next_latents.copy_(plain)  # the pipeline continues from the unguided latent (same tensor)
            current["x"] = next_latents.clone()
            if on_step is not None:
                on_step()

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the deprecated pipeline's notices
            height, width = image_size(safe)
            output = safe(list(prompts), height=height, width=width, num_inference_steps=n_steps,
                          guidance_scale=guidance_scale, latents=latents.clone(), callback=callback,
                          callback_steps=1, output_type=output_type, **sld)
    return output, torch.stack(unguided, 1), torch.stack(guided, 1), torch.tensor(timesteps)


def record_chains(safe, prompts: Sequence[str], seeds: Sequence[int], n_steps: int = 50, preset: str = "max",
                  guidance_scale: float = DEFAULT_GUIDANCE, follow: Sequence[str] = FOLLOW, batch_size: int = 16,
                  progress: Optional[Callable[[int, int], None]] = None,
                  labels: Optional[Sequence[str]] = None) -> ChainRecord:
    """Record chains for every (prompt, seed) pair and every followed sampler in ``follow``.

    Args:
        safe: a ``StableDiffusionPipelineSafe`` (see ``models.load_pipelines``).
        prompts, seeds: one seed per prompt (x_T is drawn from it, the same for both followed samplers).
        n_steps: DDIM steps; preset: SLD preset name; guidance_scale: classifier-free guidance weight.
        follow: which samplers' chains to walk ("safe" and/or "base").
        batch_size: prompts per pipeline call.
        progress: called with (steps done, total steps).
        labels: optional "safe"/"unsafe" label per prompt, kept with the rows.
    """
    sld = check_generation_args(list(prompts), n_steps, preset, guidance_scale)
    if len(seeds) != len(prompts):
        raise ValueError(f"need one seed per prompt: {len(prompts)} prompts, {len(seeds)} seeds")
    total = len(prompts) * len(follow) * n_steps
    done = {"n": 0}
    parts = []
    for kind in follow:
        for batch in prompt_batches(safe.tokenizer, prompts, batch_size):
            batch_prompts = list(prompts[batch])
            batch_seeds = [int(s) for s in seeds[batch]]
            batch_labels = list(labels[batch]) if labels is not None else []
            x_T = initial_latents(safe, batch_seeds)

            def step_done(n=len(batch_prompts)):
                done["n"] += n
                if progress is not None:
                    progress(done["n"], total)

            _, unguided, guided, timesteps = run_safe_recording(
                safe, batch_prompts, x_T, n_steps, guidance_scale, sld, kind, step_done, output_type="np")
            parts.append(ChainRecord(batch_prompts, batch_seeds, [kind] * len(batch_prompts), x_T.float().cpu(),
                                     unguided, guided, timesteps,
                                     noise_levels(timesteps, safe.scheduler.config.num_train_timesteps),
                                     labels=list(batch_labels)))
    record = ChainRecord.concat(parts)
    record.meta = {"n_steps": n_steps, "preset": preset, "guidance_scale": float(guidance_scale),
                   "safety_concept": safe.safety_concept, "latent_shape": list(latent_shape(safe))}
    return record


# --------------------------------------------------------------------------------------------------
# The command that records them (``images record``) and the prompt files it reads


@dataclass
class RecordArgs(ProgressOption, GuidanceScaleOption, SamplerOptions, ImageModelOption):
    """Record base (SD) and safety-guided (SLD) chains for reward training (resumable, sharded)."""

    out: Path = DATA_DIR
    """folder of the safetensors shards"""
    prompts: Optional[Path] = None
    """prompt file (.txt one per line, or .csv with prompt[,label]); default: captions of the embedded grammar"""
    n_prompts: int = 240
    """distinct grammar captions to draw when --prompts is not given"""
    unsafe_fraction: float = 0.5
    """fraction of drawn captions from the unsafe family"""
    batch_size: int = 16
    """prompts per pipeline call"""
    shard_size: int = 32
    """prompts per shard (a finished shard is skipped when the command is run again)"""
    seed: int = 0
    """seed of the caption draw and of every chain's x_T"""


def read_prompts_file(path: Path) -> List[Tuple[str, str]]:
    """(prompt, label) pairs: a .txt (one prompt per line) or a .csv with a ``prompt`` and optional ``label`` column."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"prompt file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"prompt file {path} is not UTF-8 text") from error
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        columns = {c.lower().strip(): c for c in reader.fieldnames or []}
        if "prompt" not in columns:
            raise ValueError(f"{path}: a .csv needs a 'prompt' column (found {reader.fieldnames})")
        pairs = [(row[columns["prompt"]].strip(), (row.get(columns.get("label", ""), "") or "").strip().lower())
                 for row in reader]
    else:
        pairs = [(line.strip(), "") for line in text.splitlines()]
    pairs = [(p, lab) for p, lab in pairs if p]
    if not pairs:
        raise ValueError(f"prompt file {path} holds no prompts")
    return pairs


def record_command(args: RecordArgs):
    from tqdm.auto import tqdm

    if not 1 <= args.shard_size <= 4096 or not 1 <= args.batch_size <= 256:
        raise ValueError("shard_size must be in 1..4096 and batch_size in 1..256")
    from .embedded.data import grammar_prompts
    from .embedded.model import folder_concept_set

    # without a prompt file: captions of the model's own grammar (the shipped embedded model's for another model)
    concepts = embedded_concept_set(args.model) or folder_concept_set()
    pairs = read_prompts_file(args.prompts) if args.prompts else \
        grammar_prompts(concepts, args.n_prompts, args.seed, args.unsafe_fraction)
    prompts = [p for p, _ in pairs]
    labels = [lab for _, lab in pairs]
    check_generation_args(prompts, args.n_steps, args.preset, args.guidance_scale)
    seeds = [args.seed * 1_000_003 + i for i in range(len(prompts))]
    manifest = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()
                if k not in ("progress", "out")}
    manifest["model"] = resolve_model(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / MANIFEST
    if manifest_path.is_file() and json.loads(manifest_path.read_text())["options"] != manifest:
        raise ValueError(f"{args.out} holds chains recorded with other options ({manifest_path}); use another --out "
                         f"or delete that folder")
    manifest_path.write_text(json.dumps({"options": manifest, "n_prompts": len(prompts)}, indent=1) + "\n")
    _, safe = load_pipelines(args.model)
    total = len(prompts) * 2 * args.n_steps
    bar = tqdm(total=total, desc="recording", disable=not args.progress, dynamic_ncols=True)
    began = time.time()
    for k, start in enumerate(range(0, len(prompts), args.shard_size)):
        path = args.out / f"shard_{k:04d}.safetensors"
        chunk = slice(start, start + args.shard_size)
        if path.is_file() and ChainRecord.load(path).prompts[: len(prompts[chunk])] == prompts[chunk]:
            bar.update(len(prompts[chunk]) * 2 * args.n_steps)
            continue
        offset = bar.n

        def progress(done, _total, offset=offset):
            bar.update(offset + done - bar.n)

        record = record_chains(safe, prompts[chunk], seeds[chunk], args.n_steps, args.preset, args.guidance_scale,
                               batch_size=args.batch_size, progress=progress, labels=labels[chunk])
        record.meta["model"] = manifest["model"]
        record.save(path)
    bar.close()
    print(f"recorded {len(prompts)} prompts x 2 chains x {args.n_steps} steps into {args.out} "
          f"({time.time() - began:.0f} s)")
