"""The domain services the tabs are given (``reward_demo.services``): the environment is read once, when they are
built, and each service works from what it was built with."""
import ast
import json
from pathlib import Path

import pytest

from reward_demo.services import build_services

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ("REWARD_DEMO_MAZE_CHECKPOINTS", "REWARD_DEMO_LOCOMOTION_CHECKPOINTS", "REWARD_DEMO_LOCOMOTION_ASSETS",
             "REWARD_DEMO_SD_MODEL", "REWARD_DEMO_SD_REWARD", "REWARD_DEMO_DEVICE")


def test_the_defaults_are_the_shipped_folders(monkeypatch):
    from reward_demo import options

    for name in OVERRIDES:
        monkeypatch.delenv(name, raising=False)
    services = build_services()
    assert services.maze.checkpoints == options.MAZE_CHECKPOINTS and services.maze.device is None
    assert services.locomotion.checkpoints == options.LOCOMOTION_CHECKPOINTS
    assert services.locomotion.assets == options.LOCOMOTION_ASSETS
    assert (services.images.model, services.images.reward) == ("embedded", None)


def test_the_environment_is_read_once_when_the_services_are_built(monkeypatch, tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "examples.json").write_text(json.dumps({"envs": {"hopper": {"settings": {}}}}))
    (tmp_path / "reward").mkdir()
    (tmp_path / "reward" / "config.json").write_text(json.dumps({"metadata": {"threshold": 1.25,
                                                                              "uncertain_half_width": 0.5}}))
    values = dict(zip(OVERRIDES, (str(tmp_path / "maze"), str(tmp_path / "loco"), str(tmp_path / "assets"),
                                  "owner/model", str(tmp_path / "reward"), "cpu")))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    services = build_services()
    for name in OVERRIDES:  # later changes of the environment do not reach built services
        monkeypatch.setenv(name, str(tmp_path / "elsewhere"))
    assert services.maze.checkpoints == tmp_path / "maze" and services.maze.device == "cpu"
    assert not services.maze.has_models("umaze") and services.maze.default_maze() == "umaze"
    assert services.locomotion.checkpoints == tmp_path / "loco" and services.locomotion.trained_envs() == []
    assert services.locomotion.load_examples() == {"hopper": {"settings": {}}}
    assert services.locomotion.default_env([]) == "hopper"
    with pytest.raises(FileNotFoundError, match="not trained yet"):
        services.locomotion.check_trained("walker2d")
    images = services.images
    assert (images.model, images.reward, images.device) == ("owner/model", tmp_path / "reward", "cpu")
    assert images.reward_folder() == tmp_path / "reward"
    assert (images.default_threshold(), images.default_half_width()) == (1.25, 0.5)


def test_another_image_model_needs_its_own_reward():
    from reward_demo.images.demo import ImagesDemo

    with pytest.raises(FileNotFoundError, match="the shipped reward belongs to the embedded model"):
        ImagesDemo(model="owner/model").reward_folder()
    assert "the shipped reward belongs to the embedded model" in ImagesDemo(model="owner/model").models_missing()


#: what a tab module may not do: read the environment or load models itself (its service does)
FORBIDDEN_NAMES = {"environ", "getenv", "load_maze_models", "load_locomotion_models", "load_pipelines",
                   "load_reward", "inference"}
FORBIDDEN_MODULES = ("reward_demo.options", "..options", "..maze.models", "..locomotion.models",
                     "..locomotion.inference", "..images.inference", "..images.models")
#: the domains' functions that read the environment's folders or hold models: a tab calls its service's instead
FORBIDDEN_IMPORTS = {"get_models", "has_models", "trained_envs", "check_trained", "rewards_of", "check_reward",
                     "reward_steering", "configured_timesteps", "load_examples", "example_run", "default_env",
                     "compute_heatmap", "load_models", "models_missing", "default_threshold", "default_half_width",
                     "evaluation_summary", "SCORING_QUEUE", "RUNS_DIR", "EXAMPLES_DIR"}


@pytest.mark.parametrize("tab", ["maze", "locomotion", "images"])
def test_tabs_only_use_their_service(tab):
    tree = ast.parse((ROOT / "reward_demo" / "ui" / f"{tab}_tab.py").read_text())
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    modules = {"." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not (names | imported) & FORBIDDEN_NAMES, (names | imported) & FORBIDDEN_NAMES
    assert not imported & FORBIDDEN_IMPORTS, imported & FORBIDDEN_IMPORTS
    assert not modules & set(FORBIDDEN_MODULES) and "os" not in modules, modules
