"""What the Locomotion tab says about a run of ``demo``: a plain-language headline (return, distance travelled
and steps survived, steered vs base, and which reward steered), the summary of its numbers, what each reward is
(``reward_note``), and the shipped precomputed example runs (``assets/locomotion/examples.json``, made by
``python -m reward_demo.ui.locomotion_examples``)."""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Optional

from ..options import LOCOMOTION_ASSETS as SHIPPED_ASSETS  # noqa: F401  (re-exported)
from ..options import locomotion_assets as assets_dir

ENVS = ("hopper", "halfcheetah", "walker2d")
GYM_IDS = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5"}
#: the two planners a tab run shows
PLANNERS = ("base", "steered")
#: where a run's videos and files go (``demo``), and where the examples' videos are copied from
RUN_DIR = Path(tempfile.gettempdir()) / "reward_demo_locomotion"

#: the shipped examples: longer than the interactive cap (computed offline), same seed for every env
EXAMPLE_SEED = 0
EXAMPLE_STEPS = {"hopper": 400, "walker2d": 400, "halfcheetah": 200}
EXAMPLES_COMMAND = "python -m reward_demo.ui.locomotion_examples"
#: what the robots are called in a sentence
NAMES = {"hopper": "hopper", "halfcheetah": "half-cheetah", "walker2d": "walker"}
#: each reward (``models.REWARDS``) in a line: its label (``models.REWARD_LABELS``) and what it is
REWARD_TEXT = {
    "paper": ("paper (offline)", "the paper's reward: gradient matching between the base and expert planners on "
                                 "their datasets, no simulator"),
    "onpolicy": ("on-policy fine-tuned (extension)", "this project's extension, not the paper's method: the "
                 "paper's reward fine-tuned on the states the steered planner visits in the simulator "
                 "(`locomotion finetune-reward`)"),
}
UNKNOWN_REWARD = "unknown"


def reward_label(reward: Optional[str]) -> str:
    """"paper (offline)", "on-policy fine-tuned (extension)", or "unknown" (an example made before it was recorded)."""
    return REWARD_TEXT[reward][0] if reward in REWARD_TEXT else UNKNOWN_REWARD


def window_words(steering: dict) -> str:
    """", the reward's gradient at diffusion steps t < K" where the steering has a t_startgrad K, else ""."""
    begin = steering.get("t_startgrad")
    return "" if begin is None else f", the reward's gradient at diffusion steps t < {int(begin)}"


def steering_words(steering: dict) -> str:
    return (f"{steering.get('guidance', 'input')} guidance, scale {float(steering['scale']):g}, "
            f"t_stopgrad {int(steering['t_stopgrad'])}{window_words(steering)}")


def reward_note(env: str, reward: str, steering: dict, rewards) -> str:
    """The Markdown under the Reward choice: what ``reward`` is, the steering it is meant for (``steering``, set
    on the controls when it is picked), and, where ``env`` has only the paper's reward (``rewards``), that the
    extension is not offered for it."""
    label, what = REWARD_TEXT[reward]
    text = f"**{label}**: {what}. Recommended steering: {steering_words(steering)}."
    if "onpolicy" not in rewards:
        text += (f" {GYM_IDS[env]} has no on-policy extension (`python -m reward_demo locomotion finetune-reward "
                 f"--env {env}` would make one): only the paper's reward is offered.")
    return text


# ------------------------------------------------------------------ headline and summary
def comparison(env: str, summaries: Dict[str, dict]) -> str:
    """"Steered hopper: return 812 vs 455 base, travelled 2.1 m vs 1.2 m, survived 300 vs 180 steps" from the
    two planners' ``Episode.summary()``s (steps survived only where one fell, else how long neither fell)."""
    base, steered = summaries["base"], summaries["steered"]
    parts = [f"return {steered['return']:.0f} vs {base['return']:.0f} base"]
    if steered.get("distance") is not None and base.get("distance") is not None:
        parts.append(f"travelled {_metres(steered['distance'])} vs {_metres(base['distance'])}")
    if base["fell"] or steered["fell"]:
        parts.append(f"survived {steered['length']} vs {base['length']} steps")
    else:
        parts.append(f"neither fell in {max(base['length'], steered['length'])} steps")
    return f"Steered {NAMES[env]}: " + ", ".join(parts)


def _metres(distance: float) -> str:
    return f"{round(distance, 2) + 0.0:.2f} m"  # + 0.0: no "-0.00"


def _settings_text(settings: dict) -> str:
    text = (f"reward: {reward_label(settings.get('reward'))}; seed {settings['seed']}, steering scale "
            f"{settings['scale']:g}, t_stopgrad {settings['t_stopgrad']}")
    return text + (", mean guidance" if settings.get("guidance") == "mean" else "") + window_words(settings)


def _falls(summaries: Dict[str, dict]) -> str:
    fell = [f"the {p} planner fell at step {summaries[p]['length']}" for p in PLANNERS if summaries[p]["fell"]]
    text = "; ".join(fell)
    return f" {text[0].upper()}{text[1:]}." if fell else ""


def headline(env: str, summaries: Dict[str, dict], settings: dict, state: str, step: Optional[int] = None) -> str:
    """The Markdown above the results. ``state``: "example" (the shipped run), "finished", "running" or
    "cancelled" (the run so far: ``step`` of ``settings["steps"]`` environment steps)."""
    if not summaries:
        return (f"**{GYM_IDS[env]}: no run to show yet.** Press *Run base + steered* for a "
                f"{settings['steps']}-step episode.")
    sentence = comparison(env, summaries)
    steps = settings["steps"]
    if state == "example":
        return (f"**{sentence}.**{_falls(summaries)}  \nPrecomputed example ({steps} steps, "
                f"{_settings_text(settings)}); *Run base + steered* plans a fresh episode.")
    if state == "finished":
        return f"**{sentence}.**{_falls(summaries)}  \nFresh run ({steps} steps, {_settings_text(settings)})."
    if state == "running":
        return (f"**Step {step} of {steps}, so far:** {sentence}.{_falls(summaries)}  \nThe videos follow when "
                f"the run ends ({_settings_text(settings)}).")
    if state == "cancelled":
        return (f"**Cancelled at step {step} of {steps}; up to then:** {sentence}.{_falls(summaries)}  \nThe "
                f"videos are the previous run's ({_settings_text(settings)}).")
    raise ValueError(f"state must be example, finished, running or cancelled, got {state!r}")


def summary_json(env: str, settings: dict, episodes: Dict[str, dict], **extra) -> dict:
    """The numbers of a run: settings (``reward`` among them, with its label), each planner's
    ``Episode.summary()``, steered minus base, ``extra``."""
    out = {"env": env, "gym_id": GYM_IDS[env], **settings, "reward": settings.get("reward", UNKNOWN_REWARD),
           "reward_label": reward_label(settings.get("reward")), **episodes}
    if "base" in episodes and "steered" in episodes:
        base, steered = episodes["base"], episodes["steered"]
        out["steered_minus_base"] = {
            "return": round(steered["return"] - base["return"], 3),
            "normalized_score": round(steered["normalized_score"] - base["normalized_score"], 2)}
        if steered.get("distance") is not None and base.get("distance") is not None:
            out["steered_minus_base"]["distance"] = round(steered["distance"] - base["distance"], 3)
    out.update(extra)
    return out


# ------------------------------------------------------------------ the shipped examples
def examples_json(assets=None) -> Path:
    """``assets``/examples.json (default folder: $REWARD_DEMO_LOCOMOTION_ASSETS, else the shipped assets)."""
    return (Path(assets) if assets else assets_dir()) / "examples.json"


@functools.lru_cache(maxsize=4)
def _examples_file(path: Path, mtime: float) -> dict:
    return json.loads(path.read_text())


def load_examples(assets=None) -> dict:
    """{env: example} of examples.json in ``assets`` ({} when absent)."""
    path = examples_json(assets)
    try:
        return _examples_file(path, path.stat().st_mtime)["envs"]
    except FileNotFoundError:
        return {}


def example_reward(example: dict) -> str:
    """The reward an example was made with (its settings' ``reward``), "unknown" for one made before it was
    recorded."""
    return example["settings"].get("reward") or UNKNOWN_REWARD


def example_run(env: str, assets=None) -> dict:
    """The env's shipped example (in ``assets``): its examples.json entry with ``videos`` as paths of copies in the
    temp dir (Gradio serves files from there whatever the working directory); its settings name its reward
    (``example_reward``)."""
    examples = load_examples(assets)
    if env not in examples:
        raise FileNotFoundError(f"no precomputed example for {env!r} in {examples_json(assets)} (examples: "
                                f"{sorted(examples) or 'none'}); make them with `{EXAMPLES_COMMAND}`")
    example = examples[env]
    assets = Path(assets) if assets else assets_dir()
    folder = RUN_DIR / "examples" / hashlib.sha1(str(assets.resolve()).encode()).hexdigest()[:10]
    folder.mkdir(parents=True, exist_ok=True)
    videos = {}
    for planner in PLANNERS:
        source = assets / example["videos"][planner]
        target = folder / source.name
        if not target.is_file() or target.stat().st_mtime < source.stat().st_mtime:
            shutil.copyfile(source, target)
        videos[planner] = str(target)
    return {**example, "settings": {**example["settings"], "reward": example_reward(example)}, "videos": videos}


def default_env(trained, assets=None) -> str:
    """The first of ``trained`` with an example in ``assets``, else the first trained env, else hopper."""
    with_example = [e for e in trained if e in load_examples(assets)]
    return (with_example or list(trained) or [ENVS[0]])[0]
