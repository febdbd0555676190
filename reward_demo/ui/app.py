"""``build_app(services)``: the Gradio Blocks of the demo: title, a paragraph on the paper and method, one tab per
domain (Maze, Locomotion, Images), each laid out around the domain's service (``reward_demo.services``), and the
stylesheet they share."""
from __future__ import annotations

import os
from typing import Optional

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("MUJOCO_GL", "egl")  # off-screen MuJoCo rendering (Locomotion tab); before mujoco is imported

import gradio as gr  # noqa: E402

from ..options import torch_threads  # noqa: E402
from ..services import Services, build_services  # noqa: E402
from . import images_tab, locomotion_tab, maze_tab  # noqa: E402

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


#: Tab labels stay short so that all three fit a phone's width (longer ones fold into a "..." menu); each tab's
#: first paragraph names its environments and models.
TABS = (("maze", "Maze"), ("locomotion", "Locomotion"), ("images", "Images"))

#: Plotly draws its text and grid in fixed colours; in dark mode they are recoloured here (the figures have
#: transparent backgrounds, ``figure_style.themed_layout``). Hover labels keep plotly's own colours.
CSS = """
.dark .js-plotly-plot :is(.gtitle, .g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .legendtext,
  .legendtitletext, .colorbar text, .annotation-text) { fill: var(--body-text-color) !important; }
.dark .js-plotly-plot :is(.gridlayer path, .zerolinelayer path) { stroke: rgba(255, 255, 255, 0.14) !important; }
.dark .js-plotly-plot .modebar-btn path { fill: var(--body-text-color-subdued) !important; }
"""


def configure_torch() -> None:
    """One intra-op thread per request by default (REWARD_DEMO_TORCH_THREADS overrides): on a small shared
    CPU, several threads per small network are far slower than one."""
    import torch

    threads = torch_threads()
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def build_app(services: Optional[Services] = None) -> gr.Blocks:
    """The app, each tab wired to its service of ``services`` (default: ``build_services()``, as the environment
    configures them)."""
    configure_torch()
    services = services if services is not None else build_services()
    builders = {"maze": maze_tab.build_tab, "locomotion": locomotion_tab.build_tab, "images": images_tab.build_tab}
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        with gr.Tabs():
            for tab_id, label in TABS:
                with gr.Tab(label, id=tab_id, elem_id=f"tab-{tab_id}"):
                    builders[tab_id](getattr(services, tab_id), demo)
        # a js-only page-load event (no Python function, so no API endpoint): click-to-pick-goal on the plot
        demo.load(None, js=maze_tab.CLICK_TO_PICK_GOAL_JS)
    return demo


def launch(demo: gr.Blocks, **options):
    """Serve ``demo`` through the queue (every event is queued: that is how error messages reach the page)
    with the app's stylesheet; ``options`` go to ``Blocks.launch``."""
    return demo.queue().launch(css=CSS, **options)
