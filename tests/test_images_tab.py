"""The Images tab: prompt input rules (every bad input gets its clear message), the tab's tables, figures and
files, and its handlers on a stub backend (the endpoints through the app's HTTP API: test_images_api.py)."""
import csv
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reward_demo.images import demo as images_demo
from reward_demo.images import inputs as pi
from reward_demo.images.inputs import MAX_FILE_BYTES, MAX_PROMPT_CHARS, MAX_PROMPTS, PromptItem
from reward_demo.ui import images_plots


# ------------------------------------------------------------------ prompt input
def test_textbox_one_prompt_per_line():
    items = pi.parse_text("a cat\n\n   \n  a   red\tstar  \r\nfire\n")
    assert [i.prompt for i in items] == ["a cat", "a red star", "fire"]
    assert all(i.label is None for i in items)
    assert pi.parse_text(None) == [] and pi.parse_text("\n \n") == []


def test_valid_txt_file(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_bytes("\ufeffa kitten\n\nun couteau ensanglant\r\n".encode("utf-8"))
    assert pi.read_prompt_file(path) == [PromptItem("a kitten"), PromptItem("un couteau ensanglant")]


def test_valid_csv_file(tmp_path):
    path = tmp_path / "prompts.CSV"
    rows = [["id", "Prompt", "label"], ["1", "a cat, sleeping", "safe"], ["2", "", "unsafe"], ["3", "a gun", "unsafe"],
            ["4", 'a "quoted" knife', ""]]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert pi.read_prompt_file(path) == [PromptItem("a cat, sleeping", "safe"), PromptItem("a gun", "unsafe"),
                                         PromptItem('a "quoted" knife', None)]


def test_csv_without_label_column():
    assert pi.parse_file_bytes(b"prompt\nfire\nstar\n", "x.csv") == [PromptItem("fire"), PromptItem("star")]


def test_textbox_and_file_together(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("from the file\n")
    items = pi.collect_prompts("typed", str(path))
    assert [i.prompt for i in items] == ["typed", "from the file"]
    # gradio's forms of an upload value
    assert pi.collect_prompts(None, {"path": str(path)}) == [PromptItem("from the file")]
    assert pi.collect_prompts("", [str(path)]) == [PromptItem("from the file")]


def test_limits_are_inclusive():
    assert len(pi.parse_text("\n".join(f"p{i}" for i in range(MAX_PROMPTS)))) == MAX_PROMPTS
    assert pi.parse_text("x" * MAX_PROMPT_CHARS)[0].prompt == "x" * MAX_PROMPT_CHARS
    data = b"p\n" * (MAX_FILE_BYTES // 2 - 100)  # many blank-free lines: too many prompts, but not too big
    with pytest.raises(ValueError, match="at most 32 prompts"):
        pi.parse_file_bytes(data, "big.txt")


BAD_FILES = [
    (b"", "a.txt", "is empty"),
    (b" \n\t\n", "a.txt", "only whitespace"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.txt", "looks binary"),
    (b"caf\xe9 au lait", "a.txt", "not valid UTF-8"),
    (b"\xff\xfea\x00b\x00", "a.csv", "looks binary"),
    (b"x" * (MAX_FILE_BYTES + 1), "a.txt", "at most 1,000,000 bytes"),
    (b"p\n" * (MAX_PROMPTS + 1), "a.txt", f"has {MAX_PROMPTS + 1} prompts"),
    (b"ok\n" + b"y" * (MAX_PROMPT_CHARS + 1), "a.txt", f"line 2: the prompt has {MAX_PROMPT_CHARS + 1} characters"),
    (b"text,label\na cat,safe\n", "a.csv", "no 'prompt' column"),
    (b'prompt\n"unterminated', "a.csv", "not a valid CSV"),
    (b"prompt\n" + b"p\n" * (MAX_PROMPTS + 1), "a.csv", f"has {MAX_PROMPTS + 1} prompts"),
    (b"prompt,label\ncat," + b"l" * 41 + b"\n", "a.csv", "label must be plain text"),
    (b"a cat", "prompts.pdf", "unsupported type '.pdf'"),
    (b"a cat", "prompts", "(no extension)"),
    (b"bell\x07", "a.txt", "control or invalid characters (U+0007)"),
]


@pytest.mark.parametrize("data,name,message", BAD_FILES, ids=[m for _, _, m in BAD_FILES])
def test_bad_file_gives_clear_message(tmp_path, data, name, message):
    with pytest.raises(ValueError) as info:
        pi.parse_file_bytes(data, name)
    assert message in str(info.value) and repr(name) in str(info.value)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ValueError, match=re.escape(message)):
        pi.read_prompt_file(path)


@pytest.mark.parametrize("text,upload,message", [
    ("", None, "no prompts"),
    ("\n  \n", None, "no prompts"),
    ("a\x00b", None, "line 1: the prompt contains control"),
    ("\n".join("p" for _ in range(MAX_PROMPTS + 1)), None, f"has {MAX_PROMPTS + 1} prompts"),
    ("z" * (MAX_PROMPT_CHARS + 5), None, f"{MAX_PROMPT_CHARS + 5} characters, at most {MAX_PROMPT_CHARS}"),
    ("a", ["x.txt", "y.txt"], "one prompt file at a time"),
    ("a", 42, "could not be read"),
    ("a", "/nonexistent/prompts.txt", "can not be read"),
    (b"bytes", None, "must be text"),
])
def test_bad_run_input_gives_clear_message(text, upload, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        pi.collect_prompts(text, upload)


def test_textbox_and_file_count_together(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("\n".join(f"f{i}" for i in range(MAX_PROMPTS)))
    with pytest.raises(ValueError, match="textbox and file together"):
        pi.collect_prompts("one more", str(path))


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(50 * MAX_FILE_BYTES)  # sparse: 50 MB on paper
    monkeypatch.setattr("builtins.open", lambda *a, **k: pytest.fail("read an oversized file"))
    with pytest.raises(ValueError, match="50,000,000 bytes: at most 1,000,000"):
        pi.read_prompt_file(path)


def test_no_bytes_crash_the_parser():
    """Random bytes and random near-text: only ValueError, never anything else."""
    rng = random.Random(0)
    alphabet = 'ab ,"\n\r\t\x00\x1b\u00e9\u4e2d;'
    for i in range(400):
        n = rng.choice([1, 3, 40, 400, 4000])
        if i % 2:
            data = bytes(rng.randrange(256) for _ in range(n))
        else:
            data = "".join(rng.choice(alphabet) for _ in range(n)).encode("utf-8")
        for name in ("x.txt", "x.csv"):
            try:
                items = pi.parse_file_bytes(data, name)
            except ValueError as exc:
                assert str(exc)
            else:
                assert 1 <= len(items) <= MAX_PROMPTS
                assert all(0 < len(item.prompt) <= MAX_PROMPT_CHARS for item in items)


# ------------------------------------------------------------------ tables, figures, files
ROWS = [{"prompt": "a cat", "label": "safe", "base_reward": 0.8, "safe_reward": 0.9, "difference": 0.1},
        {"prompt": "a gun", "label": None, "base_reward": -1.2, "safe_reward": 0.4, "difference": 1.6}]


def test_table_verdicts_follow_threshold():
    table = images_plots.table_rows(ROWS, 0.5)
    assert table[0] == [1, "a cat", "safe", 0.8, 0.9, 0.1, "safe", "safe", "", "", ""]
    assert table[1] == [2, "a gun", "", -1.2, 0.4, 1.6, "unsafe", "unsafe", "", "", ""]
    assert [r[6:8] for r in images_plots.table_rows(ROWS, 0.0)] == [["safe", "safe"], ["unsafe", "safe"]]
    assert len(table[0]) == len(images_plots.TABLE_HEADERS)


def test_chain_score_has_its_own_verdict_which_the_threshold_does_not_move():
    rows = [dict(ROWS[0], base_chain_score=-3.0), dict(ROWS[1], base_chain_score=-5.0)]
    for threshold in (0.0, 0.5):
        table = images_plots.table_rows(rows, threshold, chain_rule=(-4.0, 0.0))
        assert [r[8:10] for r in table] == [[-3.0, "safe"], [-5.0, "unsafe"]]
    # without a calibrated chain rule: the score, no verdict; a run scored before the chain score: neither
    assert [r[8:10] for r in images_plots.table_rows(rows, 0.0)] == [[-3.0, ""], [-5.0, ""]]
    assert [r[8:10] for r in images_plots.table_rows(ROWS, 0.0, chain_rule=(-4.0, 0.0))] == [["", ""], ["", ""]]
    banded = images_plots.table_rows(rows, 0.0, chain_rule=(-4.0, 1.5))
    assert [r[9] for r in banded] == ["uncertain", "uncertain"]
    styled = images_plots.styled_table(images_plots.table_rows(rows, 0.0, chain_rule=(-4.0, 0.0)))
    assert images_plots.VERDICT_STYLES["unsafe"].split(";")[0] in styled.to_html()


def test_scores_figure_has_both_series_and_threshold():
    figure = json.loads(images_plots.figure_json(images_plots.scores_figure(ROWS, 0.25)))
    names = [t.get("name", "") for t in figure["data"]]
    base = figure["data"][names.index("base image (no safety guidance)")]
    safe = figure["data"][names.index("safe image (safety guidance)")]
    assert base["y"] == [0.8, -1.2] and safe["y"] == [0.9, 0.4] and base["customdata"] == ["a cat", "a gun"]
    (line,) = figure["layout"]["shapes"]
    assert line["y0"] == line["y1"] == 0.25
    low, high = figure["layout"]["yaxis"]["range"]
    assert low < -1.2 and high > 0.9


def test_notes_name_cut_prompts_unknown_words_and_label_agreement():
    rows = [dict(ROWS[0], unknown_words=["puppy", "grass"]),
            dict(ROWS[1], label="unsafe", truncated=True, token_limit=24, ignored_text="on the *table*")]
    table = images_plots.table_rows(rows, 0.0)
    assert [r[-1] for r in table] == ["unknown words: puppy, grass", "cut after 24 tokens"]
    notes = images_plots.notes_markdown(rows, 0.0)
    assert notes.startswith("Labels given for 2 prompts: the base image's verdict agrees on 2 (balanced accuracy 1.00")
    assert "- #1: no training caption uses 'puppy', 'grass'; its verdict is a guess." in notes
    assert '- #2 is longer than the 24 tokens the model reads: it ignored "on the \\*table\\*".' in notes
    assert images_plots.notes_markdown([dict(ROWS[1], label=None)], 0.0) == ""  # nothing to say
    # the chain score's verdict is compared with the labels too, where every row has one
    chained = [dict(rows[0], base_chain_score=-3.0), dict(rows[1], base_chain_score=-3.5)]
    notes = images_plots.notes_markdown(chained, 0.0, chain_rule=(-3.2, 0.0))
    assert notes.startswith("Labels given for 2 prompts: the base image's verdict agrees on 2 (balanced accuracy "
                            "1.00 on the 2 it decided); the chain score's verdict agrees on 2 (balanced accuracy 1.00")
    assert "chain score" not in images_plots.notes_markdown(chained, 0.0)  # no chain rule: no chain verdict


def test_table_is_styled_and_figure_shows_the_band_on_a_transparent_background():
    styled = images_plots.styled_table(images_plots.table_rows(ROWS, 0.85, judge_with_band(0.1)))
    assert styled.data["verdict (base)"].tolist() == ["uncertain", "unsafe"]
    html = styled.to_html()
    assert images_plots.VERDICT_STYLES["uncertain"].split(";")[0] in html and "nowrap" in html
    figure = images_plots.scores_figure(ROWS, 0.85, half_width=0.1)
    band, line = figure["layout"]["shapes"]
    assert (band["type"], band["y0"], band["y1"]) == ("rect", pytest.approx(0.75), pytest.approx(0.95))
    assert figure["layout"]["paper_bgcolor"] == figure["layout"]["plot_bgcolor"] == "rgba(0,0,0,0)"
    assert "\u00b1 0.1 uncertain" in figure["layout"]["annotations"][0]["text"]


def judge_with_band(half_width):
    from reward_demo.images.verdicts import verdict

    return lambda reward, threshold: verdict(reward, threshold, half_width)


def test_gallery_images_are_upscaled_crisply():
    image = Image.new("RGB", (64, 64), (255, 0, 0))
    image.putpixel((0, 0), (0, 0, 255))
    big = images_demo.upscaled(image)
    assert big.size == (128, 128)
    assert big.getpixel((1, 1)) == (0, 0, 255) and big.getpixel((2, 2)) == (255, 0, 0)  # nearest: no blur


def test_csv_has_one_row_per_prompt(tmp_path):
    results = {"settings": {"seed": 3, "n_steps": 7, "preset": "max", "guidance_scale": 7.5, "model": "embedded"},
               "rows": ROWS + [{"prompt": "=cmd()", "label": None, "base_reward": 0, "safe_reward": 0,
                                "difference": 0}]}
    path = tmp_path / "s.csv"
    assert images_plots.save_csv(path, results, 0.5) == 3
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == images_plots.CSV_COLUMNS
    assert rows[1]["prompt"] == "a gun" and rows[1]["verdict_base"] == "unsafe" and float(rows[1]["difference"]) == 1.6
    assert rows[0]["seed"] == "3" and rows[0]["threshold"] == "0.5"
    assert rows[2]["prompt"] == "'=cmd()"  # no spreadsheet formula injection
    assert rows[0]["base_chain_score"] == rows[0]["verdict_chain"] == rows[0]["chain_threshold"] == ""
    chained = {**results, "rows": [dict(ROWS[0], base_chain_score=-3.0)]}
    images_plots.save_csv(path, chained, 0.5, chain_rule=(-4.0, 0.25))
    with open(path, newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["base_chain_score"], row["verdict_chain"], row["chain_threshold"],
            row["chain_uncertain_half_width"]) == ("-3", "safe", "-4", "0.25")


# ------------------------------------------------------------------ handlers on a stub backend (no models)
@dataclass
class StubScore:
    prompt: str
    base_reward: float
    safe_reward: float
    difference: float
    base_image: Image.Image
    safe_image: Image.Image
    n_tokens: int = 3
    token_limit: int = 24
    ignored_text: str = ""
    base_chain_score: float = -1.0

    @property
    def truncated(self):
        return self.n_tokens > self.token_limit


class StubScoring:
    """The inference and models modules' interface, with images and rewards made up from the prompt."""

    DEFAULT_THRESHOLD = 0.0
    HALF_WIDTH = 0.0

    def __init__(self):
        self.calls = []

    def load_reward(self, *args, **kwargs):
        return None

    def reward_folder(self, *args):
        return "stub-reward"

    def shipped_reward_folder(self, model=None):
        return "stub-reward"

    def reward_half_width(self, folder):
        return self.HALF_WIDTH

    def is_embedded_model(self, model=None):
        return True

    def model_concept_set(self, model=None):
        return None  # the vocabulary then shows the shipped model's concept set

    def score_prompts(self, prompts, seed=0, n_steps=50, preset="max", guidance_scale=7.5, progress=None, model=None,
                      seeds=None, batch_size=8, reward=None, device=None):
        seeds = [seed] * len(prompts) if seeds is None else list(seeds)
        self.calls.append(dict(prompts=list(prompts), seeds=seeds, n_steps=n_steps, preset=preset))
        out = []
        for i, prompt in enumerate(prompts):
            base = (-1.0 if "gun" in prompt else 1.0) + 0.001 * seeds[i]
            colour = (200, 30, 30) if base < 0 else (30, 200, 30)
            out.append(StubScore(prompt, base, base + 0.5, 0.5, Image.new("RGB", (16, 16), colour),
                                 Image.new("RGB", (16, 16), (30, 30, 200)), n_tokens=len(prompt.split()) + 2,
                                 token_limit=6, ignored_text=" ".join(prompt.split()[4:])))
            if progress is not None:
                progress(i + 1, len(prompts))
        return out


@pytest.fixture
def stub(monkeypatch, tmp_path):
    backend = StubScoring()
    monkeypatch.setattr(images_demo, "inference", lambda: backend)
    monkeypatch.setattr(images_demo, "models", lambda: backend)
    monkeypatch.setattr(images_demo, "model_name", lambda model: "stub")
    return backend


@pytest.fixture
def images_handlers(stub, tmp_path):
    """The Images tab's handlers on a service whose scoring is the stub (nothing to load) and whose runs go to
    ``tmp_path``."""
    from reward_demo.images.demo import ImagesDemo
    from reward_demo.ui.images_tab import ImagesHandlers

    service = ImagesDemo(runs_dir=tmp_path / "runs")
    service.load_models = lambda: None
    return ImagesHandlers(service)


def no_progress(*args, **kwargs):
    pass


def cells(styled) -> list:
    """The plain cell values of the tab's styled table (what API clients get)."""
    return styled.data.values.tolist()


def test_score_handler_on_stub(stub, images_handlers, tmp_path):
    upload = tmp_path / "more.csv"
    upload.write_text("prompt,label\na gun,unsafe\n")
    styled, gallery, plot, results = images_handlers.score("a cat", str(upload), 4, 3, "strong", 0.0,
                                                           progress=no_progress)
    table = cells(styled)
    assert stub.calls == [dict(prompts=["a cat", "a gun"], seeds=[4, 4], n_steps=3, preset="strong")]
    assert [row[1:3] for row in table] == [["a cat", ""], ["a gun", "unsafe"]]
    assert [row[6] for row in table] == ["safe", "unsafe"]
    assert len(gallery) == 4 and all(Path(p).is_file() for p, _ in gallery)
    # short captions (the rest is in the table), base then safe image of each prompt
    assert [caption for _, caption in gallery] == ["#1 base", "#1 safe", "#2 base", "#2 safe"]
    with Image.open(gallery[2][0]) as image:
        assert image.getpixel((0, 0)) == (200, 30, 30)  # the stub's base image of "a gun"
    assert results["settings"] == {"seed": 4, "n_steps": 3, "preset": "strong", "guidance_scale": 7.5, "model": "stub"}
    json.dumps(results)  # JSON-ready
    figure = json.loads(plot.plot)
    assert figure["layout"]["shapes"][0]["y0"] == 0.0
    # a new threshold changes the verdicts without scoring again
    table2 = cells(images_handlers.rethreshold(results, 2.0)[0])
    assert [row[6:8] for row in table2] == [["unsafe", "unsafe"], ["unsafe", "unsafe"]] and len(stub.calls) == 1
    path = images_handlers.download(results, 0.0)
    assert Path(path).read_text().count("\n") == 3


def test_results_json_can_not_serve_other_files(images_handlers):
    from reward_demo.ui import images_tab

    forged = {"rows": [dict(ROWS[0], base_image=str(Path(images_tab.__file__)), safe_image="/etc/passwd")]}
    table, gallery, _ = images_handlers.rethreshold(forged, 0.0)
    assert len(cells(table)) == 1 and gallery == []


def test_evaluation_summary_quotes_the_report_only_for_the_reward_it_is_about(tmp_path):
    from reward_demo.images.demo import ImagesDemo
    from reward_demo.images.evaluate import EVAL_JSON

    shipped = ImagesDemo()  # the shipped model and reward
    report = json.loads(EVAL_JSON.read_text())
    novel = report["heldout_novel_prompts"]
    summary = shipped.evaluation_summary()
    assert summary is not None and f"{novel['b_prompt_auroc']:.2f} (AUROC)" in summary
    assert f"balanced accuracy {novel['b_verdict_balanced_accuracy']:.2f}" in summary
    assert f"on {novel['n_prompts']} held-out prompts" in summary
    # the uncertain band: what it does on the same held-out prompts (it was chosen on the calibration prompts)
    from reward_demo.images.verdicts import decided_balanced_accuracy

    half_width = shipped.default_half_width()
    rows = report["rows"]
    if half_width <= 0:  # the shipped reward's calibration chose no band: the summary says nothing of one
        assert "*uncertain*" not in summary and shipped.band_summary(report) == ""
    accuracy, uncertain = decided_balanced_accuracy([r["base_reward"] for r in rows if r["label"] == "safe"],
                                                    [r["base_reward"] for r in rows if r["label"] == "unsafe"],
                                                    shipped.default_threshold(), 0.2)
    with_band = ImagesDemo()
    with_band.default_half_width = lambda: 0.2  # the band's sentence, for a reward calibrated with one
    assert "Within 0.2 of the threshold the verdict is *uncertain*" in with_band.band_summary(report)
    assert (f"{100 * uncertain:.0f} % of the images uncertain" in with_band.band_summary(report)
            and f"balanced accuracy {accuracy:.2f}." in with_band.band_summary(report))
    assert ImagesDemo(reward=tmp_path).evaluation_summary() is None  # another reward: the report is not about it
    # this project's chain score, beside the paper's figures, where the report has it
    from reward_demo.images.demo import chain_summary

    if report.get("chain_score"):
        assert f"with AUROC {report['chain_score']['b_prompt_auroc']:.2f}" in summary
    assert chain_summary({}) == "" and chain_summary({"chain_score": None}) == ""
    chain = {"b_prompt_auroc": 0.934, "b_decided_balanced_accuracy": 0.871, "uncertain_fraction": 0.12,
             "half_width": 0.3}
    assert chain_summary({"chain_score": chain}) == (
        " The *chain score* (this project's extension) ranks the same images with AUROC 0.93, and its verdict is "
        "right with balanced accuracy 0.87 outside its uncertain band (12 % uncertain).")


def test_threshold_range_covers_the_examples():
    from reward_demo.ui import images_tab

    assert images_tab.threshold_range(0.0, ROWS) == (-3.0, 3.0)  # 2 x |-1.2| = 2.4, rounded up
    assert images_tab.threshold_range(0.5, ROWS) == (-3.0, 4.0)  # 0.5 -+ 2 x 1.7, out to whole units
    assert images_tab.threshold_range(0.25, None) == (-1.0, 2.0)  # no examples


def test_old_runs_are_pruned(tmp_path):
    import os

    from reward_demo.images.demo import ImagesDemo

    old, young, other = tmp_path / "0123456789ab", tmp_path / "ba9876543210", tmp_path / "examples_keep"
    for folder in (old, young, other):
        folder.mkdir()
        (folder / "x.png").write_bytes(b"png")
    os.utime(old, (time.time() - 3 * 3600,) * 2)
    os.utime(other, (time.time() - 3 * 3600,) * 2)
    ImagesDemo(runs_dir=tmp_path).prune_runs()
    assert not old.exists() and young.exists() and other.exists()


def test_results_json_is_bounded(images_handlers):
    import gradio as gr

    too_many = {"rows": [dict(ROWS[0])] * (MAX_PROMPTS + 1)}
    with pytest.raises(gr.Error, match="1..32 rows"):
        images_handlers.rethreshold(too_many, 0.0)
    with pytest.raises(gr.Error, match="nothing scored yet"):
        images_handlers.download(None, 0.0)
    for bad in ({"unknown_words": "puppy"}, {"unknown_words": [1]}, {"truncated": "yes"}, {"ignored_text": 5},
                {"label": ["safe"]}, {"base_chain_score": float("nan")}, {"base_chain_score": "high"}):
        with pytest.raises(gr.Error, match="optional: label, base_chain_score, truncated"):
            images_handlers.describe_run({"rows": [dict(ROWS[0], **bad)]}, 0.0)


#: every bad input of the score handler: the message names the input as the tab labels it and what is allowed
BAD_SCORE_INPUT = [
    (("", None, 0, 3, "max", 0.0), "no prompts: type one prompt per line"),
    (("a", None, 0.5, 3, "max", 0.0), "Seed: must be a whole number from 0 to 4294967295, got 0.5"),
    (("a", None, "abc", 3, "max", 0.0), "Seed: must be a whole number from 0 to 4294967295, got 'abc'"),
    (("a", None, -5, 3, "max", 0.0), "Seed: must be a whole number from 0 to 4294967295, got -5"),
    (("a", None, None, 3, "max", 0.0), "Seed: must be a whole number"),
    (("a", None, 0, 1000, "max", 0.0), "Denoising steps: must be a whole number from 2 to 100, got 1000"),
    (("a", None, 0, "ten", "max", 0.0), "Denoising steps: must be a whole number from 2 to 100, got 'ten'"),
    (("a", None, 0, 3, "atlantis", 0.0), "Safety guidance preset \\(SLD\\): 'atlantis' is not a preset; choose one of "
                                          "weak, medium, strong, max"),
    (("a", None, 0, 3, None, 0.0), "Safety guidance preset \\(SLD\\): None is not a preset"),
    (("a", None, 0, 3, "max", float("nan")), "Threshold: must be a number from -?[0-9.]+ to [0-9.]+, got nan"),
    (("a", None, 0, 3, "max", "low"), "Threshold: must be a number from .* got 'low'"),
    (("a", None, 0, 3, "max", 1e6), "Threshold: must be a number from .* got 1000000.0"),
]


@pytest.mark.parametrize("args,message", BAD_SCORE_INPUT, ids=[str(a[1:]) for a, _ in BAD_SCORE_INPUT])
def test_score_handler_bad_input(stub, images_handlers, args, message):
    import gradio as gr

    with pytest.raises(gr.Error, match=message):
        images_handlers.score(*args, progress=no_progress)
    assert stub.calls == []


def test_examples_generator_and_loader_on_stub(stub, tmp_path):
    out = tmp_path / "examples"
    saved = images_demo.make_examples(images_demo.ExamplesArgs(out=str(out), n_steps=3))
    assert saved["command"].startswith(images_demo.COMMAND) and "--n-steps 3" in saved["command"]
    loaded = images_demo.load_examples(out)
    assert [r["prompt"] for r in loaded["rows"]] == [p.prompt for p in images_demo.EXAMPLE_PROMPTS]
    assert [r["label"] for r in loaded["rows"]] == [p.label for p in images_demo.EXAMPLE_PROMPTS]
    assert all(Path(r[f"{kind}_image"]).is_file() for r in loaded["rows"] for kind in ("base", "safe"))
    assert sorted(p.name for p in out.iterdir())[:2] == ["01_base.png", "01_safe.png"]
    assert loaded["settings"]["n_steps"] == 3
    (out / "03_safe.png").unlink()
    images_demo._load_examples.cache_clear()
    with pytest.raises(ValueError, match="damaged"):
        images_demo.load_examples(out)
    with pytest.raises(FileNotFoundError, match=images_demo.COMMAND):
        images_demo.load_examples(tmp_path / "nowhere")


# ------------------------------------------------------------------ shipped examples
def test_shipped_examples_are_small_and_complete():
    folder = images_demo.EXAMPLES_DIR
    if not (folder / images_demo.EXAMPLES_FILE).is_file():
        pytest.skip(f"no precomputed examples in {folder}: make them with `{images_demo.COMMAND}` once the image "
                    f"models are trained")
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 1_000_000, f"{folder} holds {size} bytes"
    data = json.loads((folder / images_demo.EXAMPLES_FILE).read_text())
    labels = [row["label"] for row in data["rows"]]
    assert "safe" in labels and "unsafe" in labels
    for row in data["rows"]:
        assert (folder / row["base_image"]).is_file() and (folder / row["safe_image"]).is_file()


@pytest.mark.slow
def test_shipped_examples_match_the_shipped_models():
    """The precomputed examples are what the shipped models give now (stale examples after a retrain fail)."""
    from reward_demo.services import build_services

    folder = images_demo.EXAMPLES_DIR
    missing = build_services().images.models_missing()
    if missing or not (folder / images_demo.EXAMPLES_FILE).is_file():
        pytest.skip(f"needs the shipped image models and examples ({missing or 'no examples'})")
    data = json.loads((folder / images_demo.EXAMPLES_FILE).read_text())
    settings = data["settings"]
    rows = [next(r for r in data["rows"] if r["label"] == label) for label in ("safe", "unsafe")]
    items = [PromptItem(r["prompt"], r["label"]) for r in rows]
    fresh = images_demo.score_items(items, seed=settings["seed"], n_steps=settings["n_steps"],
                                        preset=settings["preset"], guidance_scale=settings["guidance_scale"])
    for old, new in zip(rows, fresh["rows"]):
        assert new["base_reward"] == pytest.approx(old["base_reward"], abs=0.05), old["prompt"]
        assert new["safe_reward"] == pytest.approx(old["safe_reward"], abs=0.05), old["prompt"]
        with Image.open(folder / old["base_image"]) as image:
            assert np.abs(np.asarray(image, dtype=float) - np.asarray(new["base_image"], dtype=float)).mean() < 2.0
