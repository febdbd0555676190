"""Tiny random Hopper models and datasets, video checks and the trained-env skips shared by the locomotion
tests."""
import re
import subprocess
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from reward_demo.checkpoint import save_pretrained
from reward_demo.locomotion.train import GaussianNormalizer, LocoTrainArgs, build_diffusion, build_reward

OBS, ACT = 11, 3  # Hopper-v5


def save_tiny_hopper_models(root: Path) -> Path:
    """Random tiny Hopper base, expert and reward (horizon 4, T 20) saved like the trainer saves them in
    ROOT/hopper; returns ROOT."""
    args = LocoTrainArgs(env="hopper", horizon=4, dim=16, dim_mults=(1, 2)).resolved()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    normalizer = GaussianNormalizer(tuple(rng.normal(0, 0.1, OBS + ACT).tolist()),
                                    tuple(rng.uniform(0.5, 2.0, OBS + ACT).tolist()))
    meta = {"env": "hopper", "obs_dim": OBS, "action_dim": ACT, "horizon": 4, "normalizer": asdict(normalizer),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(args).items()}}
    for kind, model in (("base", build_diffusion(args, OBS, ACT)), ("expert", build_diffusion(args, OBS, ACT)),
                        ("reward", build_reward(args, OBS, ACT))):
        save_pretrained(model, root / "hopper" / kind, metadata={**meta, "kind": kind})
    return root


#: the steering a tiny on-policy reward says it was fitted for (as ``finetune-reward`` writes it)
TINY_ONPOLICY_STEERING = {"scale": 1.0, "t_stopgrad": 0, "guidance": "mean"}


def save_tiny_onpolicy_reward(root: Path) -> Path:
    """A second random tiny Hopper reward saved as ROOT/hopper/reward_onpolicy, with the metadata
    ``finetune-reward`` writes (its ``steering`` and ``kind``); returns that folder."""
    from reward_demo.checkpoint import read_config

    meta = read_config(root / "hopper" / "reward")["metadata"]
    args = LocoTrainArgs(env="hopper", horizon=4, dim=16, dim_mults=(1, 2)).resolved()
    torch.manual_seed(1)
    folder = root / "hopper" / "reward_onpolicy"
    save_pretrained(build_reward(args, OBS, ACT), folder,
                    metadata={**meta, "kind": "reward (fine-tuned on-policy, 1 rounds)",
                              "steering": dict(TINY_ONPOLICY_STEERING)})
    return folder


def random_dataset(rng, episodes: int, length: int) -> dict:
    """A D4RL-format Hopper dataset of random transitions, ``episodes`` episodes of ``length`` steps."""
    n = episodes * length
    timeouts = np.zeros(n, dtype=bool)
    timeouts[length - 1::length] = True
    return {"observations": rng.normal(size=(n, OBS)).astype(np.float32),
            "actions": rng.uniform(-1, 1, size=(n, ACT)).astype(np.float32),
            "rewards": rng.normal(size=n).astype(np.float32), "terminals": np.zeros(n, dtype=bool),
            "timeouts": timeouts}


def save_random_datasets(data_root: Path, seed: int = 0, episodes: int = 10, length: int = 12) -> Path:
    """DATA_ROOT/hopper/{medium_replay,expert}.npz of random transitions; returns DATA_ROOT."""
    rng = np.random.default_rng(seed)
    (data_root / "hopper").mkdir(parents=True, exist_ok=True)
    for kind in ("medium_replay", "expert"):
        np.savez(data_root / "hopper" / f"{kind}.npz", **random_dataset(rng, episodes, length))
    return data_root


def probe(path) -> dict:
    """Codec, pixel format, size and frame count of a video (ffmpeg from imageio-ffmpeg; no ffprobe there)."""
    import imageio_ffmpeg

    text = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr
    match = re.search(r"Video: (\w+).*?, (\w+)(?:\([^)]*\))?, (\d+)x(\d+)", text)
    assert match, text
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    return {"codec": match.group(1), "pix_fmt": match.group(2), "size": (int(match.group(3)), int(match.group(4))),
            "frames": frames, "fps": meta["fps"], "faststart": _moov_before_mdat(path)}


def _moov_before_mdat(path) -> bool:
    data = Path(path).read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def check_video(path, n_frames=None, size=None):
    """Assert ``path`` is an h264 mp4 for browsers (yuv420p, even size, moov first) of ``size`` (default: the
    renderer's) and ``n_frames``; its ``probe``."""
    from reward_demo.locomotion import render

    size = size or (render.DEFAULT_WIDTH, render.DEFAULT_HEIGHT)
    info = probe(path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p", info
    assert info["size"] == size and size[0] % 2 == 0 and size[1] % 2 == 0
    assert info["faststart"], "moov atom must come first for streaming in the browser"
    if n_frames is not None:
        assert len(info["frames"]) == n_frames
    return info


def skip_without_models(env: str) -> None:
    from reward_demo.locomotion import demo

    if not demo.has_models(env):
        pytest.skip(f"locomotion env {env!r} has no trained checkpoints in {demo.checkpoint_root() / env} "
                    f"(base/, expert/, reward/): train them with `{demo.TRAIN_COMMAND.format(env=env)}`")


def first_trained_env() -> str:
    """The first locomotion env with trained checkpoints (skip the test without one)."""
    from reward_demo.locomotion import demo

    env = next((e for e in demo.ENVS if demo.has_models(e)), None)
    if env is None:
        skip_without_models("hopper")
    return env


def unload_functions(demo) -> list:
    """The functions a Gradio app runs when a page unloads (closed or reloaded)."""
    return [dep.fn for dep in demo.fns.values() if any(target[1] == "unload" for target in dep.targets)]
