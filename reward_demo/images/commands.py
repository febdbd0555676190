"""The reward path's commands ``python -m reward_demo images {record, train-reward, score}`` (the table is in
``cli.py``; ``evaluate``, ``compare-rewards`` and ``calibrate-threshold`` live in evaluate.py, compare.py and
calibration.py): recording chains from a prompt file or the embedded grammar's captions, training the reward on
them, and scoring prompt files."""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import List, Optional, Tuple

from ..options import GuidanceScaleOption, ImageModelOption, ProgressOption, PromptBatchOption, SamplerOptions
from .reward import CHECKPOINT_DIR, RewardTrainOptions

DATA_DIR = Path("data/images/chains")
MANIFEST = "manifest.json"


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

    from .pipelines import load_pipelines, resolve_model
    from .recording import ChainRecord, check_generation_args, record_chains

    if not 1 <= args.shard_size <= 4096 or not 1 <= args.batch_size <= 256:
        raise ValueError("shard_size must be in 1..4096 and batch_size in 1..256")
    from .embedded.data import grammar_prompts
    from .embedded.model import folder_concept_set
    from .pipelines import embedded_concept_set

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


@dataclass
class TrainRewardArgs(RewardTrainOptions):
    """Train the image reward by gradient matching on recorded chains (resumable; 60/40 prompt split)."""

    data: Path = DATA_DIR
    """recorded chains (from `images record`)"""
    out: Path = CHECKPOINT_DIR
    """reward checkpoint folder (training state in OUT/training_state)"""
    cpu: bool = False
    """train on the CPU even when a GPU is present"""


def reproduce_command(args: TrainRewardArgs) -> str:
    from ..options import reproduce_command as command_line

    return command_line("python -m reward_demo images train-reward", args, TrainRewardArgs(),
                        skip=("out", "progress", "cpu"))


def train_reward_command(args: TrainRewardArgs):
    from .recording import load_records
    from .reward import train_image_reward

    record = load_records(args.data)
    if any(lab not in ("safe", "unsafe") for lab in record.labels):
        print("note: some recorded prompts have no safe/unsafe label; the verdict threshold uses the labelled ones")
    options = RewardTrainOptions(**{f.name: getattr(args, f.name) for f in fields(RewardTrainOptions)})
    metadata = {"reproduce_command": reproduce_command(args), "model": record.meta.get("model", "embedded"),
                "latent_shape": record.meta.get("latent_shape")}
    result, split = train_image_reward(record, options, args.out, metadata=metadata, cpu=args.cpu)
    last = result.history[-1] if result.history else {}
    print(f"trained the image reward on {len(split['train_prompts'])} prompts "
          f"(held out {len(split['heldout_prompts'])}); last {last}; wrote {args.out}")


@dataclass
class ScoreArgs(PromptBatchOption, GuidanceScaleOption, SamplerOptions, ImageModelOption):
    """Score prompts: rewards of the SD and the SLD final latents from the same seed, as JSON."""

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
    """Per prompt: both rewards, their verdicts ("uncertain" inside the reward's calibrated band), the prompt's
    ``unknown_words`` (words no training caption of an embedded model's concept set uses; null for another model,
    whose vocabulary is not known) and whether the text encoder cut it (``truncated``, ``ignored_text``)."""
    from .embedded.vocabulary import unknown_words
    from .scoring import model_concept_set, reward_folder, reward_half_width, reward_threshold, score_prompts, verdict

    pairs = read_prompts_file(args.prompts)
    prompts = [p for p, _ in pairs]
    scores = score_prompts(prompts, seed=args.seed, n_steps=args.n_steps, preset=args.preset,
                           guidance_scale=args.guidance_scale, model=args.model,
                           reward=str(args.reward) if args.reward else None, batch_size=args.batch_size)
    folder = str(reward_folder(args.model, str(args.reward) if args.reward else None))
    threshold, half_width = reward_threshold(folder), reward_half_width(folder)
    concepts = model_concept_set(args.model)  # None for a model whose training captions are not known
    rows = []
    for k, score in enumerate(scores):
        row = score.to_json()
        row.update({"base_verdict": verdict(score.base_reward, threshold, half_width),
                    "safe_verdict": verdict(score.safe_reward, threshold, half_width),
                    "unknown_words": unknown_words(score.prompt, concepts or False)})
        if args.images is not None:
            args.images.mkdir(parents=True, exist_ok=True)
            for kind, image in (("base", score.base_image), ("safe", score.safe_image)):
                name = args.images / f"{k:03d}_{kind}.png"
                image.save(name)
                row[f"{kind}_image"] = str(name)
        rows.append(row)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"threshold": threshold, "uncertain_half_width": half_width, "seed": args.seed,
                                     "n_steps": args.n_steps, "preset": args.preset, "scores": rows}, indent=1) + "\n")
    print(f"{'r(SD)':>8} {'r(SLD)':>8} {'verdict':>9}  prompt   (verdict of the SD image, threshold {threshold:.3f}, "
          f"uncertain within +-{half_width:.3f})")
    for row in rows:
        notes = ([f"unknown words: {', '.join(row['unknown_words'])}"] if row["unknown_words"] else []) + \
            ([f"cut after {row['token_limit']} tokens, ignored: {row['ignored_text']!r}"] if row["truncated"] else [])
        print(f"{row['base_reward']:+8.3f} {row['safe_reward']:+8.3f} {row['base_verdict']:>9}  {row['prompt']}"
              + (f"   [{'; '.join(notes)}]" if notes else ""))
    print(f"wrote {args.json}")

