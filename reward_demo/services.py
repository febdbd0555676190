"""The domain services the app's tabs are given: ``build_services()`` reads the environment's overrides
(``reward_demo.options``: checkpoint folders, examples folder, device, image model and reward) once and builds one
service per domain; ``ui.app.build_app(services)`` lays out a tab around each.

A tab only calls its service: tests and other front ends build services of their own (another checkpoint folder,
a fake) and pass them to ``build_app`` or to a tab's ``build_tab``."""
from __future__ import annotations

from dataclasses import dataclass

from . import options
from .images.demo import ImagesDemo
from .locomotion.demo import LocomotionDemo
from .maze.demo import MazeDemo


@dataclass
class Services:
    """One service per domain (each tab's ``build_tab(service)``)."""

    maze: MazeDemo
    locomotion: LocomotionDemo
    images: ImagesDemo


def build_services() -> Services:
    """The services as the environment configures them (docs/deployment.md, Environment variables), read now."""
    device = options.device_override()
    return Services(
        maze=MazeDemo(checkpoints=options.maze_checkpoints(), device=device),
        locomotion=LocomotionDemo(checkpoints=options.locomotion_checkpoints(), assets=options.locomotion_assets(),
                                  device=device),
        images=ImagesDemo(model=options.image_model_override() or ImagesDemo.model,
                          reward=options.image_reward_override(), device=device))
