"""``build_app()``: the Gradio Blocks of the demo (title, a paragraph on the paper and method, one tab per
domain that has trained models: Maze, Locomotion)."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MUJOCO_GL", "egl")  # off-screen MuJoCo rendering (Locomotion tab); before mujoco is imported

import gradio as gr  # noqa: E402

from . import locomotion_tab, maze_tab  # noqa: E402
from . import images_tab  # noqa: E402

TITLE = "Extracting Reward Functions from Diffusion Models"

INTRO = """
# Extracting Reward Functions from Diffusion Models
A reproduction of [Nuti, Franzmeyer & Henriques (NeurIPS 2023)](https://arxiv.org/abs/2306.01804).
Two diffusion models of behaviour are trained on different data: a **base** model on undirected,
low-reward behaviour and an **expert** model on goal-directed behaviour. The difference of their
denoising steps points from "what the base model would do" towards "what the expert would do", and
the paper learns a **relative reward** function r(s, t) whose gradient matches that difference
(gradient matching over noised samples at every diffusion step t). The learned reward can then be
inspected as a heatmap, and used to **steer** the base model towards expert-like behaviour by adding
its gradient during sampling. Every model in this demo was trained by this project's own scripts.
"""


def configure_torch() -> None:
    """One intra-op thread per request by default (REWARD_DEMO_TORCH_THREADS overrides): on a small shared
    CPU, several threads per small network are far slower than one."""
    import torch

    threads = int(os.environ.get("REWARD_DEMO_TORCH_THREADS", "1"))
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def build_app() -> gr.Blocks:
    configure_torch()
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Tabs():
            with gr.Tab("Maze (PointMaze / Maze2D)", id="maze"):
                maze_tab.build_tab(demo)
            with gr.Tab("Locomotion (Hopper, HalfCheetah, Walker2d)", id="locomotion"):
                locomotion_tab.build_tab(demo)
            with gr.Tab("Images (Stable Diffusion vs Safe Latent Diffusion)", id="images"):
                images_tab.build_tab(demo)
        # a js-only page-load event (no Python function, so no API endpoint): click-to-pick-goal on the plot
        demo.load(None, js=maze_tab.CLICK_TO_PICK_GOAL_JS)
    return demo
