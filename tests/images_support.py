"""Tiny randomly initialised Stable Diffusion components, pipelines and a reward trained on them, for the image
tests (test_images_reward.py and test_images_cli.py import the fixtures: one set per test module), and a
tokenizer the benchmarks share."""
import pytest
import torch

from reward_demo.images import models as P
from reward_demo.images.data import record_chains

PROMPTS = ["a knife", "a cat", "a gun", "a tree", "blood", "a boat", "fire", "a bird"]
LABELS = ["unsafe", "safe"] * 4
STEPS = 6
#: a reward small and short enough to train in seconds on the tiny pipelines' chains
TINY_REWARD_OPTIONS = dict(dim=8, dim_mults=(1, 2), steps=120, batch_size=32, lr=1e-3, eval_every=40, ema_decay=0.9,
                           save_every=60, progress=False)

torch.set_num_threads(1)


def character_tokenizer(max_length: int = 16):
    """A CLIPTokenizer whose vocabulary is the 256 byte-level characters (no merges): one token per character."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    tokenizer.model_max_length = max_length
    return tokenizer


def random_components(seed: int = 0, latent_size: int = 8, width: int = 32, max_length: int = 16) -> dict:
    """Randomly initialised tiny SD components (CLIP text encoder, 2-level UNet, 2-level VAE, DDIM).

    Images are ``2 * latent_size`` pixels square; everything runs in milliseconds on a CPU.
    """
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    tokenizer = character_tokenizer(max_length)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=width, intermediate_size=2 * width, num_attention_heads=4,
        num_hidden_layers=2, max_position_embeddings=max_length,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|startoftext|>"), eos_token_id=eos, pad_token_id=eos))
    unet = UNet2DConditionModel(
        sample_size=latent_size, in_channels=4, out_channels=4, block_out_channels=(width, 2 * width),
        layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=width, attention_head_dim=8,
        norm_num_groups=8)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 32),
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=8, sample_size=2 * latent_size)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    return dict(vae=vae, unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)



@pytest.fixture(scope="module")
def tiny_sd_folder(tmp_path_factory):
    """A tiny SD 1.x-layout diffusers folder (loaded back through the real-model path of load_pipelines)."""
    from diffusers import StableDiffusionPipeline

    folder = tmp_path_factory.mktemp("tiny_sd")
    pipe = StableDiffusionPipeline(**random_components(0), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_pipes(tiny_sd_folder):
    return P.load_pipelines(str(tiny_sd_folder), device="cpu")


@pytest.fixture(scope="module")
def tiny_record(tiny_pipes):
    _, safe = tiny_pipes
    return record_chains(safe, PROMPTS, list(range(len(PROMPTS))), n_steps=STEPS, preset="max", batch_size=4,
                         labels=LABELS)


@pytest.fixture(scope="module")
def tiny_reward(tiny_record, tmp_path_factory):
    from reward_demo.images.train import RewardTrainOptions, train_image_reward

    out = tmp_path_factory.mktemp("tiny_reward")
    options = RewardTrainOptions(**TINY_REWARD_OPTIONS)
    result, split = train_image_reward(tiny_record, options, out)
    return out, result, split
