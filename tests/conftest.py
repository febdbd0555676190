"""Shared fixtures. The app server is started lazily, once per test session, only by tests that ask for it."""
import os
import socket

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def maze_models_present(maze: str) -> bool:
    """What the app checks: the maze's base, expert and reward checkpoints are all there."""
    from reward_demo.maze.demo import has_models

    return has_models(maze)


def skip_without_maze_models(maze: str) -> None:
    from reward_demo.maze.demo import checkpoint_root

    if not maze_models_present(maze):
        pytest.skip(f"maze {maze!r} models missing in {checkpoint_root() / maze} (config.json + model.safetensors "
                    f"in base/, expert/, reward/): train them with `python -m reward_demo maze train --maze {maze}`")


def uses_shipped_checkpoints() -> bool:
    """The app's maze models are the shipped ones (not a development folder from $REWARD_DEMO_MAZE_CHECKPOINTS)."""
    from reward_demo.maze.demo import checkpoint_root
    from reward_demo.maze.models import CHECKPOINT_ROOT

    return checkpoint_root().resolve() == CHECKPOINT_ROOT.resolve()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def one_torch_thread():
    """Run the test on one torch thread (small batches: faster, and the same numbers on any machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def app_services():
    """The services the session's app is built on (``reward_demo.services.build_services``: configured by the
    environment). The app runs in this process: a test may point a service elsewhere (monkeypatch one of its
    fields) and the app's next call sees it."""
    from reward_demo.services import build_services

    return build_services()


@pytest.fixture(scope="session")
def app_demo(app_services):
    """The demo app's Blocks (``reward_demo.ui.app.build_app`` on ``app_services``), the one ``app_url`` serves."""
    from reward_demo.ui.app import build_app

    return build_app(app_services)


@pytest.fixture(scope="session")
def app_url(app_demo):
    """The demo app (``app_demo``) served in-process on a free port; its base URL."""
    from reward_demo.ui.app import launch

    port = free_port()
    launch(app_demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
           show_error=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app_demo.close()


@pytest.fixture(scope="session")
def api_client(app_url):
    """A gradio_client.Client connected to the app (one per session)."""
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture
def rollout_steps_seen(monkeypatch) -> list:
    """The environment steps the locomotion rollouts report, as they happen (the app serves from this process,
    so this shows whether the server's loop really runs or has stopped)."""
    from reward_demo.locomotion import inference

    steps_seen = []
    real = inference.rollout

    def counting_rollout(*args, progress=None, **kwargs):
        def on_step(step, total):
            steps_seen.append(step)
            if progress is not None:
                progress(step, total)

        return real(*args, progress=on_step, **kwargs)

    monkeypatch.setattr(inference, "rollout", counting_rollout)
    return steps_seen
