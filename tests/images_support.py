"""Tiny randomly initialised Stable Diffusion pipelines and a reward trained on them, for the image tests
(test_images_reward.py, test_images_cli.py import these fixtures: one set per test module)."""
import pytest
import torch

from reward_demo.images import pipelines as P
from reward_demo.images.recording import record_chains

PROMPTS = ["a knife", "a cat", "a gun", "a tree", "blood", "a boat", "fire", "a bird"]
LABELS = ["unsafe", "safe"] * 4
STEPS = 6

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """A tiny SD 1.x-layout diffusers folder (loaded back through the real-model path of load_pipelines)."""
    from diffusers import StableDiffusionPipeline

    folder = tmp_path_factory.mktemp("tiny_sd")
    pipe = StableDiffusionPipeline(**P.random_components(0), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_pipes(tiny_folder):
    return P.load_pipelines(str(tiny_folder), device="cpu")


@pytest.fixture(scope="module")
def tiny_record(tiny_pipes):
    _, safe = tiny_pipes
    return record_chains(safe, PROMPTS, list(range(len(PROMPTS))), n_steps=STEPS, preset="max", batch_size=4,
                         labels=LABELS)


@pytest.fixture(scope="module")
def tiny_reward(tiny_record, tmp_path_factory):
    from reward_demo.images.reward import RewardTrainOptions, train_image_reward

    out = tmp_path_factory.mktemp("tiny_reward")
    options = RewardTrainOptions(dim=8, dim_mults=(1, 2), steps=120, batch_size=32, lr=1e-3, eval_every=40, ema_decay=0.9,
                                 save_every=60, progress=False)
    result, split = train_image_reward(tiny_record, options, out)
    return out, result, split
