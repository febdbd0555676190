"""What every command shares, at the bottom of the package (it imports nothing else from reward_demo).

- **Paths** of the repository: its root and the roots of checkpoints/, assets/, data/ and runs/.
- **Environment overrides** (``REWARD_DEMO_*``), each read by one function, at call time (tests set them at
  run time).
- **Option groups**: small dataclasses of options that several commands share with the same meaning, default
  and help; a command's argument dataclass inherits them instead of declaring the same field again (a command
  whose default or meaning differs keeps its own field). They are ``kw_only`` so that a command's required
  fields may follow them. Inherited fields come first in a dataclass, the last base's first: a command lists
  its groups last to first (``class Args(ProgressOption, TrainSeedOption)``: --seed, then --progress, then its
  own options).
- **Command lines**: ``cli_flag`` and ``reproduce_command``, which write the command line that makes a run again.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional, Sequence

# ---- paths
REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = REPO_ROOT / "checkpoints"
ASSETS = REPO_ROOT / "assets"
DATA = REPO_ROOT / "data"
RUNS = REPO_ROOT / "runs"

MAZE_CHECKPOINTS = CHECKPOINTS / "maze"
LOCOMOTION_CHECKPOINTS = CHECKPOINTS / "locomotion"
LOCOMOTION_ASSETS = ASSETS / "locomotion"
LOCOMOTION_DATA = DATA / "locomotion"
LOCOMOTION_RUNS = RUNS / "locomotion"


# ---- environment overrides
def maze_checkpoints(root=None) -> Path:
    """``root``, else $REWARD_DEMO_MAZE_CHECKPOINTS (development), else the shipped checkpoints/maze."""
    return Path(root or os.environ.get("REWARD_DEMO_MAZE_CHECKPOINTS") or MAZE_CHECKPOINTS)


def locomotion_checkpoints(root=None) -> Path:
    """``root``, else $REWARD_DEMO_LOCOMOTION_CHECKPOINTS (development), else the shipped checkpoints/locomotion."""
    return Path(root or os.environ.get("REWARD_DEMO_LOCOMOTION_CHECKPOINTS") or LOCOMOTION_CHECKPOINTS)


def locomotion_checkpoints_override() -> Optional[str]:
    """$REWARD_DEMO_LOCOMOTION_CHECKPOINTS when set (else None: the loaders' own default)."""
    return os.environ.get("REWARD_DEMO_LOCOMOTION_CHECKPOINTS") or None


def locomotion_assets() -> Path:
    """Where the Locomotion tab's precomputed examples live: $REWARD_DEMO_LOCOMOTION_ASSETS (development,
    tests), else the shipped assets/locomotion."""
    return Path(os.environ.get("REWARD_DEMO_LOCOMOTION_ASSETS") or LOCOMOTION_ASSETS)


def device_override() -> Optional[str]:
    """$REWARD_DEMO_DEVICE (a torch device name such as ``cpu`` or ``cuda:1``) when set, else None."""
    return os.environ.get("REWARD_DEMO_DEVICE") or None


def torch_threads() -> int:
    """$REWARD_DEMO_TORCH_THREADS: the app's intra-op threads per request (default 1)."""
    return int(os.environ.get("REWARD_DEMO_TORCH_THREADS", "1"))


IMAGE_MODEL_ENV = "REWARD_DEMO_SD_MODEL"
IMAGE_REWARD_ENV = "REWARD_DEMO_SD_REWARD"
ALLOW_DOWNLOAD_ENV = "REWARD_DEMO_ALLOW_DOWNLOAD"


def image_model_override() -> str:
    """$REWARD_DEMO_SD_MODEL (a diffusers folder or hub id for the Images tab and commands), else ""."""
    return os.environ.get(IMAGE_MODEL_ENV, "").strip()


def image_reward_override() -> Optional[Path]:
    """$REWARD_DEMO_SD_REWARD (the reward checkpoint folder for that model) when set, else None."""
    value = os.environ.get(IMAGE_REWARD_ENV)
    return Path(value) if value else None


def download_allowed() -> bool:
    """$REWARD_DEMO_ALLOW_DOWNLOAD is 1 / true / yes: a hub id may be downloaded (else the local cache only)."""
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


def omp_threads() -> int:
    """$OMP_NUM_THREADS (default 1): the torch threads of a long training or report command."""
    return int(os.environ.get("OMP_NUM_THREADS", "1"))


# ---- option groups (one-line docs are the --help text)
@dataclass(kw_only=True)
class TrainSeedOption:
    seed: int = 0
    """seed of the training run (weights, batches, and any data it draws or splits)"""


@dataclass(kw_only=True)
class ProgressOption:
    progress: bool = True
    """show progress bars"""


@dataclass(kw_only=True)
class ThreadsOption:
    threads: int = 1
    """torch CPU threads"""


@dataclass(kw_only=True)
class LocomotionEnvOption:
    env: str = "hopper"
    """hopper, halfcheetah or walker2d"""


@dataclass(kw_only=True)
class LocomotionCheckpointsOption:
    checkpoints: Optional[Path] = None
    """checkpoint root (default: $REWARD_DEMO_LOCOMOTION_CHECKPOINTS, else checkpoints/locomotion)"""


@dataclass(kw_only=True)
class MazeCheckpointsOption:
    checkpoints: Optional[Path] = None
    """checkpoint root (default: $REWARD_DEMO_MAZE_CHECKPOINTS, else the shipped checkpoints/maze)"""


@dataclass(kw_only=True)
class ImageModelOption:
    model: Optional[str] = None
    """text-to-image model: embedded (default; $REWARD_DEMO_SD_MODEL overrides), a diffusers folder, or a hub id"""


@dataclass(kw_only=True)
class SamplerOptions:
    n_steps: int = 50
    """DDIM steps"""
    preset: str = "max"
    """SLD preset: weak, medium, strong or max, optionally with settings ("max: warmup_steps=5")"""


@dataclass(kw_only=True)
class GuidanceScaleOption:
    guidance_scale: float = 7.5
    """classifier-free guidance weight"""


@dataclass(kw_only=True)
class PromptBatchOption:
    batch_size: int = 8
    """prompts per pipeline call"""


# ---- command lines
def cli_flag(name: str, value) -> str:
    """The command-line flag that sets dataclass field ``name`` to ``value`` (tyro's spelling)."""
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):  # boolean flags take no value
        return flag if value else "--no-" + flag[2:]
    if isinstance(value, (tuple, list)):
        return f"{flag} {' '.join(map(str, value))}"
    return f"{flag} {value}"


def reproduce_command(prefix: str, args, defaults, skip: Sequence[str] = ()) -> str:
    """``prefix`` plus a flag for every field of ``args`` that differs from ``defaults`` (fields in ``skip``
    left out): the command line that makes ``args`` again."""
    flags = [cli_flag(f.name, getattr(args, f.name)) for f in fields(args)
             if f.name not in skip and getattr(args, f.name) != getattr(defaults, f.name)]
    return " ".join([prefix, *flags])
