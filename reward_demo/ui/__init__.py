"""The Gradio app: ``build_app()`` returns the Blocks (see ``reward_demo.ui.app``)."""
from .app import build_app

__all__ = ["build_app"]
