"""The Images tab's ``images_*`` endpoints through the app's HTTP API (gradio_client): every bad input's message
names the input and what is allowed, and (shipped image models only) scoring, new thresholds, examples and the
CSV round-trip."""
import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reward_demo.images import demo as images_demo
from reward_demo.images.inputs import MAX_FILE_BYTES, MAX_PROMPTS
from reward_demo.images.verdicts import verdict
from reward_demo.ui import images_plots

ENDPOINTS = {"/images_score", "/images_threshold", "/images_example", "/images_download"}


# ------------------------------------------------------------------ the app's API (shipped models)
def images_service():
    """An Images service configured as the app's (by the environment)."""
    from reward_demo.services import build_services

    return build_services().images


#: the threshold the app starts with (its slider's range is around it) and its uncertain band's half-width
T0 = images_service().default_threshold()
HALF_WIDTH = images_service().default_half_width()
CHAIN_RULE = images_service().chain_rule()


def image_models_present() -> bool:
    return images_service().models_missing() is None


@pytest.fixture(scope="module")
def images_client(request, app_services):
    missing = app_services.images.models_missing()
    if missing:
        pytest.skip(f"the shipped image models are missing ({missing})")
    return request.getfixturevalue("api_client")


@pytest.mark.slow
def test_app_lists_images_endpoints(api_client):
    """Runs with or without trained models: the app builds and serves the tab's API either way."""
    api = api_client.view_api(return_format="dict", print_info=False)
    assert ENDPOINTS <= set(api["named_endpoints"])
    score = api["named_endpoints"]["/images_score"]
    assert [p["parameter_name"] for p in score["parameters"]] == ["prompts", "file", "seed", "n_steps", "preset",
                                                                  "threshold"]
    assert [r["component"] for r in score["returns"]] == ["Dataframe", "Gallery", "Plot", "Json"]


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (("", None, 0, 3, "max", T0), "no prompts"),
    (("a\x00b", None, 0, 3, "max", T0), "control or invalid characters"),
    (("\n".join(["p"] * (MAX_PROMPTS + 1)), None, 0, 3, "max", T0), "at most 32 prompts"),
    (("q" * 300, None, 0, 3, "max", T0), "at most 200"),
    (("a", None, 0, 3, "atlantis", T0), "Safety guidance preset (SLD): 'atlantis' is not a preset; choose one of "
                                        "weak, medium, strong, max"),
    (("a", None, 0, 999, "max", T0), "Denoising steps: must be a whole number from 2 to 100, got 999"),
    (("a", None, 0, 1, "max", T0), "Denoising steps: must be a whole number from 2 to 100, got 1"),
    (("a", None, "abc", 3, "max", T0), "Seed: must be a whole number from 0 to 4294967295, got 'abc'"),
    (("a", None, -5, 3, "max", T0), "Seed: must be a whole number from 0 to 4294967295, got -5"),
    (("a", None, 0, 3, "max", 99.0), "Threshold: must be a number from"),
    (("a", None, 0, 3, "max", "high"), "Threshold: must be a number from"),
])
def test_bad_score_input_through_api(api_client, args, message):
    """Input checks run before the models load: clear errors with or without trained models, naming the input
    and what is allowed (Gradio's own range and choice checks are bypassed: checked_by_handler)."""
    with pytest.raises(Exception) as info:
        api_client.predict(*args, api_name="/images_score")
    text = str(info.value)
    assert message in text and "Traceback" not in text


@pytest.mark.slow
@pytest.mark.parametrize("content,name,message", [
    (b"\x00\x01\x02binary", "p.txt", "looks binary"),
    (b"caf\xe9", "p.txt", "not valid UTF-8"),
    (b"text\na cat\n", "p.csv", "no 'prompt' column"),
    (b"", "p.csv", "is empty"),
    (b"x" * (MAX_FILE_BYTES + 10), "p.txt", "at most 1,000,000 bytes"),
    (b"a cat", "p.pdf", ".txt"),
])
def test_bad_file_through_api(api_client, tmp_path, content, name, message):
    from gradio_client import handle_file

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Exception) as info:
        api_client.predict("", handle_file(str(path)), 0, 3, "max", T0, api_name="/images_score")
    assert message in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.slow
def test_threshold_and_download_reject_garbage(api_client):
    for endpoint in ("/images_threshold", "/images_download"):
        with pytest.raises(Exception) as info:
            api_client.predict({"rows": "nope"}, T0, api_name=endpoint)
        assert "results must be the JSON of a scored run" in str(info.value)


@pytest.mark.slow
def test_example_endpoint(api_client, monkeypatch):
    if not images_demo.EXAMPLES_DIR.joinpath(images_demo.EXAMPLES_FILE).is_file():
        pytest.skip(f"no precomputed examples: make them with `{images_demo.COMMAND}`")
    from reward_demo.images import inference

    def no_generation(*args, **kwargs):
        raise AssertionError("the example endpoint generated images")

    monkeypatch.setattr(inference, "score_prompts", no_generation)  # the app serves from this process
    text, seed, n_steps, preset, table, gallery, plot, results = api_client.predict(T0, api_name="/images_example")
    assert text.splitlines() == [row["prompt"] for row in results["rows"]] == [row[1] for row in table["data"]]
    assert len(gallery) == 2 * len(results["rows"]) and all(Path(item["image"]).is_file() for item in gallery)
    assert [item["caption"] for item in gallery[:2]] == ["#1 base", "#1 safe"]
    # the verdict cells are coloured (safe / unsafe / uncertain), their values stay plain words
    styling = table["metadata"]["styling"]
    assert {row[6] for row in table["data"]} <= {"safe", "unsafe", "uncertain"}
    assert all("background-color" in styling[i][6] for i in range(len(table["data"])))
    assert preset in ("weak", "medium", "strong", "max") and n_steps >= 2 and isinstance(seed, (int, float))
    assert json.loads(plot["plot"])["layout"]["meta"]["n"] == len(results["rows"])


@pytest.fixture(scope="module")
def scored(images_client):
    start = time.perf_counter()
    out = images_client.predict("a red circle\na pistol on a white background", None, 1, 4, "max", T0,
                                api_name="/images_score")
    return out, time.perf_counter() - start


@pytest.mark.slow
def test_score_round_trip(scored):
    (table, gallery, plot, results), seconds = scored
    threshold = images_service().default_threshold()
    assert [row[1] for row in table["data"]] == ["a red circle", "a pistol on a white background"]
    assert table["headers"] == images_plots.TABLE_HEADERS
    for row, scored_row in zip(table["data"], results["rows"]):
        assert row[3] == pytest.approx(scored_row["base_reward"], abs=6e-4)
        assert row[5] == pytest.approx(scored_row["safe_reward"] - scored_row["base_reward"], abs=6e-4)
        assert row[6] == verdict(scored_row["base_reward"], T0, HALF_WIDTH)
        # this project's chain score, judged at its own calibrated rule
        assert row[8] == pytest.approx(scored_row["base_chain_score"], abs=6e-4)
        assert row[9] == ("" if CHAIN_RULE is None else verdict(scored_row["base_chain_score"], *CHAIN_RULE))
    assert [item["caption"] for item in gallery] == ["#1 base", "#1 safe", "#2 base", "#2 safe"]
    for item in gallery:
        with Image.open(item["image"]) as image:
            assert image.width == image.height >= 128  # upscaled for the gallery
            assert np.asarray(image).std() > 1  # not blank
    # "red" is kept for the hazards' drawings: no harmless training caption uses it
    assert [r["unknown_words"] for r in results["rows"]] == [["red"], []]
    assert not any(r["truncated"] for r in results["rows"])
    assert results["settings"]["seed"] == 1 and results["settings"]["n_steps"] == 4
    figure = json.loads(plot["plot"])
    assert figure["layout"]["meta"] == {"n": 2, "threshold": pytest.approx(T0), "half_width": HALF_WIDTH}
    print(f"images_score, 2 prompts x 4 steps: {seconds:.2f} s; default threshold {threshold}")


@pytest.mark.slow
def test_same_seed_same_scores(images_client, scored):
    (_, _, _, results), _ = scored
    again = images_client.predict("a red circle", None, 1, 4, "max", T0, api_name="/images_score")[3]
    assert again["rows"][0]["base_reward"] == pytest.approx(results["rows"][0]["base_reward"], abs=1e-5)


@pytest.mark.slow
def test_threshold_and_download_round_trip(images_client, app_services, scored):
    from reward_demo.ui import images_tab

    (_, _, _, results), _ = scored
    rewards = [r["base_reward"] for r in results["rows"]]
    low, high = images_tab.threshold_range(T0, app_services.images.example_rows())  # the slider's range
    for threshold in (low, high, (rewards[0] + rewards[1]) / 2):
        if not low <= threshold <= high:
            continue
        table, gallery, plot = images_client.predict(results, threshold, api_name="/images_threshold")
        assert [row[6] for row in table["data"]] == [verdict(r, threshold, HALF_WIDTH) for r in rewards]
        assert len(gallery) == 4 and json.loads(plot["plot"])["layout"]["meta"]["threshold"] == pytest.approx(threshold)
    path = images_client.predict(results, high, api_name="/images_download")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["prompt"] for r in rows] == ["a red circle", "a pistol on a white background"]
    assert float(rows[0]["base_reward"]) == pytest.approx(rewards[0], rel=1e-6)
    assert rows[0]["verdict_base"] == verdict(rewards[0], high, HALF_WIDTH)
    assert float(rows[0]["threshold"]) == pytest.approx(high)


@pytest.mark.slow
def test_missing_reward_gives_clear_error(images_client, app_services, monkeypatch):
    """The app runs in this process: make the reward loader fail as it does without a checkpoint."""

    def missing(*args, **kwargs):
        raise FileNotFoundError(
            "no reward checkpoint in /nowhere: train it with `python -m reward_demo images train-reward`"
        )

    module = images_demo.models()
    monkeypatch.setattr(module, "load_reward", missing)
    assert "train" in app_services.images.models_missing()
    with pytest.raises(Exception) as info:
        images_client.predict("a cat", None, 0, 3, "max", T0, api_name="/images_score")
    assert "no reward checkpoint" in str(info.value) and "Traceback" not in str(info.value)
