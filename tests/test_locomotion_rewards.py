"""Which locomotion reward plans (issue 24): the paper's offline reward is the default of the loader; the on-policy
fine-tuned extension is used only when named; a bad name or a missing folder says what is allowed and which command
makes it.
Tiny random Hopper models with a second tiny reward as ``reward_onpolicy``; a few environment steps only."""
import shutil

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from locomotion_support import (  # noqa: E402
    TINY_ONPOLICY_STEERING,
    save_tiny_hopper_models,
    save_tiny_onpolicy_reward,
)
from reward_demo.locomotion.planner import (  # noqa: E402
    DEFAULT_STEERING,
    REWARD_LABELS,
    REWARDS,
    available_rewards,
    load_locomotion_models,
    run_episodes,
    steering_defaults,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """(a root with the paper reward only, a root with both rewards) of tiny Hopper models."""
    paper_only = save_tiny_hopper_models(tmp_path_factory.mktemp("paper_only"))
    both = tmp_path_factory.mktemp("both")
    shutil.copytree(paper_only / "hopper", both / "hopper")
    save_tiny_onpolicy_reward(both)
    return paper_only, both


def same_weights(model, folder) -> bool:
    from safetensors.torch import load_file

    saved = load_file(str(folder / "model.safetensors"))
    return all(torch.equal(v.float(), saved[k].float()) for k, v in model.state_dict().items())


# ---------------------------------------------------------------------------------------------- the loader


def test_rewards_are_named_and_labelled():
    assert list(REWARDS) == ["paper", "onpolicy"]  # the paper's first: the default
    assert REWARDS == {"paper": "reward", "onpolicy": "reward_onpolicy"}
    assert "offline" in REWARD_LABELS["paper"] and "extension" in REWARD_LABELS["onpolicy"]


def test_the_loader_plans_with_the_paper_reward_unless_the_extension_is_named(roots):
    _, both = roots
    assert available_rewards("hopper", str(both)) == ["paper", "onpolicy"]
    paper = load_locomotion_models("hopper", str(both), "cpu")  # the extension is there, and not preferred
    assert paper.reward_name == "paper" and paper.reward_folder == "reward"
    assert same_weights(paper.reward, both / "hopper" / "reward")
    assert paper.defaults == DEFAULT_STEERING["hopper"] == steering_defaults("hopper", str(both))
    assert paper.guidance == "input"
    onpolicy = load_locomotion_models("hopper", str(both), "cpu", reward="onpolicy")
    assert onpolicy.reward_name == "onpolicy" and onpolicy.reward_folder == "reward_onpolicy"
    assert same_weights(onpolicy.reward, both / "hopper" / "reward_onpolicy")
    assert onpolicy.defaults == TINY_ONPOLICY_STEERING == steering_defaults("hopper", str(both), reward="onpolicy")
    assert onpolicy.guidance == "mean"
    assert onpolicy.reward_info() == {"name": "onpolicy", "label": REWARD_LABELS["onpolicy"],
                                      "folder": "reward_onpolicy", "kind": "reward (fine-tuned on-policy, 1 rounds)"}
    assert paper.reward_info()["kind"] == "reward"


def test_a_bad_reward_name_or_a_missing_reward_is_a_clear_error(roots):
    paper_only, _ = roots
    assert available_rewards("hopper", str(paper_only)) == ["paper"]
    for call in (lambda: load_locomotion_models("hopper", str(paper_only), "cpu", reward="best"),
                 lambda: steering_defaults("hopper", str(paper_only), reward="Paper")):
        with pytest.raises(ValueError, match=r"reward must be one of paper, onpolicy \(paper: paper \(offline\); "):
            call()
    for call in (lambda: load_locomotion_models("hopper", str(paper_only), "cpu", reward="onpolicy"),
                 lambda: steering_defaults("hopper", str(paper_only), reward="onpolicy")):
        with pytest.raises(FileNotFoundError) as info:
            call()
        text = str(info.value)
        assert "has no 'onpolicy' reward" in text and "its rewards: paper" in text
        assert "python -m reward_demo locomotion finetune-reward --env hopper" in text
    with pytest.raises(FileNotFoundError, match="locomotion train-planners --env walker2d"):
        steering_defaults("walker2d", str(paper_only))


@pytest.mark.parametrize("reward", ["paper", "onpolicy"])
def test_a_short_steered_episode_with_each_reward(roots, reward):
    models = load_locomotion_models("hopper", str(roots[1]), "cpu", reward=reward)
    batch = run_episodes(models, [100_000], models.defaults["scale"], models.defaults["t_stopgrad"], max_steps=3)
    assert 1 <= batch.lengths[0] <= 3 and np.isfinite(batch.scores).all()
    assert np.isfinite(batch.learned_rewards[0]).all()
