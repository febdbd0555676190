"""Which locomotion reward plans (issue 24): the paper's offline reward is the default of the loader, of
``locomotion evaluate`` / ``sweep`` (``--reward paper|onpolicy``) and of what they record; the on-policy fine-tuned
extension is used only when named; a bad name or a missing folder says what is allowed and which command makes it.
Tiny random Hopper models with a second tiny reward as ``reward_onpolicy``; a few environment steps only."""
import json
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
from reward_demo import cli, docs_tables  # noqa: E402
from reward_demo.locomotion import evaluate  # noqa: E402
from reward_demo.locomotion import report as report_module  # noqa: E402
from reward_demo.locomotion.inference import run_episodes
from reward_demo.locomotion.models import (
    DEFAULT_STEERING,
    REWARD_LABELS,
    REWARDS,
    available_rewards,
    load_locomotion_models,
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
    assert paper.guidance == DEFAULT_STEERING["hopper"].get("guidance", "input")
    onpolicy = load_locomotion_models("hopper", str(both), "cpu", reward="onpolicy")
    assert onpolicy.reward_name == "onpolicy" and onpolicy.reward_folder == "reward_onpolicy"
    assert same_weights(onpolicy.reward, both / "hopper" / "reward_onpolicy")
    assert onpolicy.defaults == TINY_ONPOLICY_STEERING == steering_defaults("hopper", str(both), reward="onpolicy")
    assert onpolicy.guidance == "mean"
    assert onpolicy.reward_info() == {"name": "onpolicy", "label": REWARD_LABELS["onpolicy"],
                                      "folder": "reward_onpolicy", "kind": "reward (fine-tuned on-policy, 1 rounds)",
                                      "base_planner": "base"}
    assert paper.reward_info()["kind"] == "reward"


def test_a_reward_plans_with_the_base_planner_its_config_names(roots, tmp_path):
    """An on-policy reward fitted on another base planner's chains keeps that planner when a new ``base`` ships."""
    from reward_demo.checkpoint import from_pretrained, read_config, save_pretrained
    from reward_demo.locomotion.models import load_locomotion_models as load

    root = tmp_path / "root"
    shutil.copytree(roots[1] / "hopper", root / "hopper")
    shutil.copytree(root / "hopper" / "base", root / "hopper" / "base_earlier")
    new_base = from_pretrained(root / "hopper" / "base", "cpu")
    with torch.no_grad():  # a different "base": the paper reward's planner is no longer the earlier one
        for p in new_base.parameters():
            p.add_(1.0)
    save_pretrained(new_base, root / "hopper" / "base", metadata=read_config(root / "hopper" / "base")["metadata"])
    onpolicy_config = root / "hopper" / "reward_onpolicy" / "config.json"
    config = json.loads(onpolicy_config.read_text())
    config["metadata"]["base_planner"] = "base_earlier"
    onpolicy_config.write_text(json.dumps(config))
    paper, onpolicy = (load("hopper", str(root), "cpu", reward=r) for r in ("paper", "onpolicy"))
    assert paper.base_folder == "base" and same_weights(paper.base, root / "hopper" / "base")
    assert onpolicy.base_folder == "base_earlier" and same_weights(onpolicy.base, root / "hopper" / "base_earlier")
    assert not same_weights(onpolicy.base, root / "hopper" / "base")
    assert onpolicy.reward_info()["base_planner"] == "base_earlier"
    shutil.rmtree(root / "hopper" / "base_earlier")
    load.cache_clear()
    with pytest.raises(FileNotFoundError, match="no trained base_earlier model"):
        load("hopper", str(root), "cpu", reward="onpolicy")


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


# ---------------------------------------------------------------------------------------------- the commands


@pytest.fixture
def cheap_evaluation(monkeypatch):
    """No expert policy and no held-out AUROC: those do not depend on the reward switch and take seconds."""
    monkeypatch.setattr(evaluate, "load_expert_policy", lambda env: lambda obs: np.zeros((len(obs), 3), np.float32))
    monkeypatch.setattr(evaluate, "heldout_reward_auroc", lambda models: {"auroc": 0.5, "t": 0})


def run_cli(*argv) -> int:
    return cli.main(["locomotion", *map(str, argv)])


def evaluate_cli(root, out, *extra) -> int:
    return run_cli("evaluate", "--env", "hopper", "--checkpoints", root, "--episodes", 2, "--max-steps", 2,
                   "--bootstrap", 50, "--json", out, *extra)


def test_evaluate_records_the_reward_it_used_paper_by_default(roots, tmp_path, cheap_evaluation):
    _, both = roots
    assert evaluate_cli(both, tmp_path / "paper.json") == 0
    assert evaluate_cli(both, tmp_path / "onpolicy.json", "--reward", "onpolicy") == 0
    paper, onpolicy = (json.loads((tmp_path / f"{name}.json").read_text()) for name in ("paper", "onpolicy"))
    assert paper["reward"] == {"name": "paper", "label": "paper (offline)", "folder": "reward", "kind": "reward",
                               "base_planner": "base"}
    expected = DEFAULT_STEERING["hopper"]
    assert (paper["scale"], paper["t_stopgrad"], paper["guidance"]) == (
        expected["scale"], expected["t_stopgrad"], expected.get("guidance", "input"))
    assert onpolicy["reward"]["name"] == "onpolicy" and onpolicy["reward"]["folder"] == "reward_onpolicy"
    assert (onpolicy["scale"], onpolicy["t_stopgrad"], onpolicy["guidance"]) == (1.0, 0, "mean")
    for result in (paper, onpolicy):  # today's fields stay
        assert "mean" in result["base"]["score"] and "mean" in result["steered"]["score"]
        assert "mean" in result["difference"] and len(result["difference"]["ci95"]) == 2


def test_the_reward_option_rejects_a_bad_name_and_a_missing_reward(roots, tmp_path, capsys, cheap_evaluation):
    paper_only, _ = roots
    with pytest.raises(SystemExit) as info:  # tyro: the choices are listed
        evaluate_cli(paper_only, tmp_path / "x.json", "--reward", "best")
    assert info.value.code == 2
    err = capsys.readouterr()
    assert "best" in err.out + err.err and "onpolicy" in err.out + err.err
    for command in ("evaluate", "sweep"):
        code = run_cli(command, "--env", "hopper", "--checkpoints", paper_only, "--reward", "onpolicy",
                       "--json", tmp_path / f"{command}.json")
        assert code == 2
        message = capsys.readouterr().err
        assert "has no 'onpolicy' reward" in message and "finetune-reward --env hopper" in message
        assert "Traceback" not in message and not (tmp_path / f"{command}.json").exists()


def test_sweep_records_the_reward(roots, tmp_path):
    out = tmp_path / "sweep.json"
    common = ("sweep", "--env", "hopper", "--checkpoints", roots[1], "--episodes", 1, "--max-steps", 2,
              "--scales", 0.5, "--t-stopgrads", 0)
    assert run_cli(*common, "--json", out) == 0
    assert json.loads(out.read_text())["reward"]["name"] == "paper"
    assert run_cli(*common, "--reward", "onpolicy", "--json", out) == 0
    result = json.loads(out.read_text())
    assert result["reward"]["name"] == "onpolicy" and result["guidance"] == "mean"


def test_report_reads_old_evaluations_without_a_reward_and_the_tables_name_it(roots, tmp_path, cheap_evaluation):
    runs = tmp_path / "runs"
    runs.mkdir()
    assert evaluate_cli(roots[1], runs / "locomotion_eval_hopper.json", "--reward", "onpolicy") == 0
    old = json.loads((runs / "locomotion_eval_hopper.json").read_text())
    del old["reward"]  # an evaluation made before --reward existed
    (runs / "locomotion_eval_walker2d.json").write_text(json.dumps({**old, "env": "walker2d"}))
    (tmp_path / "old_extra.json").write_text(json.dumps(old))
    out = tmp_path / "report.json"
    report_module.report_command(report_module.LocoReportArgs(envs=("hopper", "walker2d"), runs=runs, out=out,
                                                              extra=(runs / "locomotion_eval_hopper.json",
                                                                     tmp_path / "old_extra.json")))
    report = json.loads(out.read_text())
    assert report["evaluation"]["hopper"]["reward"]["name"] == "onpolicy"
    assert [run["reward"]["name"] for run in report["additional_runs"]] == ["onpolicy", "unknown"]
    results = docs_tables.locomotion_results({"locomotion": report}).splitlines()
    assert results[0].startswith("| env | reward | steering |")
    assert results[2].startswith("| Hopper | onpolicy | mean guidance")
    assert results[3].startswith("| Walker2d | unknown |")
    extra = docs_tables.locomotion_additional_runs({"locomotion": report}).splitlines()
    assert "| onpolicy |" in extra[2] and "| unknown |" in extra[3]
    report["additional_runs"][1].pop("reward")  # a report written before the reward was recorded
    assert "| unknown |" in docs_tables.locomotion_additional_runs({"locomotion": report}).splitlines()[3]


def test_window_summary_pairs_each_window_with_the_unsteered_planner_and_applies_the_rule():
    def row(scale, begin, scores):
        return {"scale": scale, "t_stopgrad": 0, "t_startgrad": begin, "score_mean": sum(scores) / len(scores),
                "scores": scores}

    unsteered = [10.0, 12.0, 8.0, 10.0]
    sweep = {"seeds": [5, 6, 7, 8], "max_steps": 1000, "guidance": "mean", "reward": {"name": "paper"},
             "rows": [row(0.0, 20, unsteered), row(2.0, 20, [30.0, 34.0, 28.0, 32.0]),  # gain +21
                      row(2.0, 15, [28.0, 30.0, 26.0, 30.0]),  # +18.5: 0.88 of it
                      row(2.0, 10, [22.0, 30.0, 20.0, 24.0])]}  # +14: 0.67 of it
    summary = report_module.window_summary(sweep, n_boot=500)
    assert [r["t_startgrad"] for r in summary["rows"]] == [20, 15, 10] and summary["n_timesteps"] == 20
    assert [r["gain"]["mean"] for r in summary["rows"]] == pytest.approx([21.0, 18.5, 14.0])
    assert [r["share_of_every_step_gain"] for r in summary["rows"]] == pytest.approx([1.0, 18.5 / 21, 14 / 21])
    assert [r["meets_rule"] for r in summary["rows"]] == [True, True, False]
    table = docs_tables.locomotion_window({"locomotion": {"window": {"hopper": summary}}}).splitlines()
    assert table[2].startswith("| Hopper | paper | mean guidance, scale 2, t_stopgrad 0 | 4 (seeds 5-8)")
    assert "t < 20 (every step)" in table[2] and table[3].endswith("| 0.88 | yes |") and table[4].endswith("| no |")
    without_every_step = {**sweep, "rows": [sweep["rows"][0], *sweep["rows"][2:]]}
    summary = report_module.window_summary(without_every_step, n_boot=500)
    assert summary["n_timesteps"] == 20 and [r["share_of_every_step_gain"] for r in summary["rows"]] == [None, None]
    assert not any(r["meets_rule"] for r in summary["rows"])
