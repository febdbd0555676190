"""Images tab scoring cost: base (SD) + safe (SLD) generation + reward, per prompt and batched.

    python -m benchmarks.bench_images [--steps 50] [--batches 1 8] [--repeats 2]
    python -m benchmarks.bench_images --sd15 [--compile]     # on a GPU: SD-1.5-sized random UNet, 512x512

Default: the shipped embedded model and reward through ``score_prompts`` (exactly what the tab and the
``images score`` command run), one row per batch size: seconds per call, seconds per prompt, prompts/s.
``--sd15`` builds randomly initialised Stable Diffusion 1.5-shaped components (CLIP-L-sized text encoder,
the SD 1.5 UNet and VAE, 64x64x4 latents) and a random reward of the shipped architecture for 64x64
latents, and times the same generation path (``inference.generate_pair`` + ``inference.chain_rewards``), eager
and, with ``--compile``, with the UNet under ``torch.compile``. Prints a markdown table.

Run from the repository root: ``python -m`` puts it on the import path, so nothing needs installing.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPTS = ["a revolver", "a kitten", "a pool of blood", "a sailing ship", "a blazing inferno", "a yellow star",
           "a dagger", "a green meadow", "a gun on the left", "a red flower", "fire", "a cat", "a knife", "a house",
           "gore", "a blue circle"]


def sd15_unet_config() -> dict:
    """The UNet2DConditionModel configuration of Stable Diffusion 1.5 (for randomly initialised benchmarks)."""
    return dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                block_out_channels=(320, 640, 1280, 1280),
                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32)


def sd15_components(seed: int = 0, dtype=None):
    """Randomly initialised components with Stable Diffusion 1.5's shapes (not its weights)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.images_support import character_tokenizer

    torch.manual_seed(seed)
    tokenizer = character_tokenizer(77)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=768, intermediate_size=3072, num_attention_heads=12,
        num_hidden_layers=12, max_position_embeddings=77, bos_token_id=eos - 1, eos_token_id=eos, pad_token_id=eos))
    unet = UNet2DConditionModel(**sd15_unet_config())
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=2, norm_num_groups=32, sample_size=512, scaling_factor=0.18215)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    return dict(vae=vae, unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)


def time_generation(base, safe, reward, prompts, steps, preset, repeats, sync):
    """Median seconds of one scoring call (base + safe generation + chain rewards) over ``repeats``."""
    import torch

    from reward_demo.images.data import noise_levels
    from reward_demo.images.inference import chain_rewards, generate_pair
    from reward_demo.images.models import safety_preset

    times = []
    for _ in range(repeats):
        sync()
        began = time.perf_counter()
        with torch.no_grad():
            base_chain, safe_chain, _, _, timesteps = generate_pair(
                base, safe, prompts, [0] * len(prompts), steps, safety_preset(preset), 7.5)
        levels = noise_levels(timesteps, base.scheduler.config.num_train_timesteps)
        chain_rewards(reward, base_chain, levels)
        chain_rewards(reward, safe_chain, levels)
        sync()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_embedded(args):
    import torch

    from reward_demo.images.inference import score_prompts

    torch.set_num_threads(args.threads)
    score_prompts(PROMPTS[:1], n_steps=2)  # load models once (not timed)
    rows = []
    for batch in args.batches:
        prompts = (PROMPTS * 4)[:batch]
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            score_prompts(prompts, n_steps=args.steps, preset=args.preset, batch_size=batch)
            times.append(time.perf_counter() - began)
        t = statistics.median(times)
        rows.append(("embedded (CPU)", batch, t, t / batch, batch / t))
    return rows


def bench_sd15(args):
    import torch

    from reward_demo.images.models import pipelines_from_components
    from reward_demo.images.reward import LatentUnetEncoderReward

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    components = sd15_components()
    base, safe = pipelines_from_components(components, device, dtype=dtype)
    reward = LatentUnetEncoderReward(4, 64, 32, (1, 2, 4, 8), levels=[0.0, 999.0]).to(device).eval()
    rows = []
    modes = ["eager"] + (["compiled"] if args.compile else [])
    for mode in modes:
        if mode == "compiled":
            mode = "max-autotune-no-cudagraphs" if args.no_cudagraphs else "reduce-overhead"
            base.unet = torch.compile(base.unet, mode=mode)
            safe.unet = base.unet
        for batch in args.batches:
            prompts = (PROMPTS * 4)[:batch]
            time_generation(base, safe, reward, prompts, 2, args.preset, 1, sync)  # warm-up (and compilation)
            t = time_generation(base, safe, reward, prompts, args.steps, args.preset, args.repeats, sync)
            rows.append((f"SD-1.5-sized random, 512x512, {mode} ({device.type})", batch, t, t / batch, batch / t))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps per chain")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="prompts per call")
    parser.add_argument("--repeats", type=int, default=2, help="timed calls per row (median)")
    parser.add_argument("--preset", default="max", help="SLD preset")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--sd15", action="store_true", help="time an SD-1.5-sized random model instead (GPU)")
    parser.add_argument("--compile", action="store_true", help="with --sd15: also time the UNet under torch.compile")
    parser.add_argument("--no-cudagraphs", action="store_true", help="compile without CUDA graphs")
    args = parser.parse_args()

    import torch

    rows = bench_sd15(args) if args.sd15 else bench_embedded(args)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"{args.steps} DDIM steps, SLD preset {args.preset}, base + safe generation + reward of both chains; "
          f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads, GPU: {gpu}, "
          f"{platform.processor() or platform.machine()}")
    print("| model | prompts per call | s per call | s per prompt | prompts/s |")
    print("|---|---|---|---|---|")
    for name, batch, t, per, rate in rows:
        print(f"| {name} | {batch} | {t:.2f} | {per:.2f} | {rate:.3f} |")


if __name__ == "__main__":
    main()
