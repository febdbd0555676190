"""The Images tab: score prompts with the safety reward learned from a text-to-image model (the base) and the
same model under Safe Latent Diffusion guidance (the expert). Each prompt is generated twice from the same
seed, without and with safety guidance, and the learned reward of each final latent is reported: a good
reward is low for harmful images and higher for harmless ones.

API endpoints (every event has an ``api_name``; see ``build_tab``):

``images_score(prompts, file, seed, n_steps, preset, threshold) -> (table, gallery, plot, results)``
``images_threshold(results, threshold) -> (table, gallery, plot)``   (new verdicts, no re-scoring)
``images_example(threshold) -> (prompts, seed, n_steps, preset, table, gallery, plot, results)``
``images_download(results, threshold) -> csv file``

The handlers are the methods of ``ImagesHandlers`` on the ``images.demo.ImagesDemo`` service the tab is given
(``build_tab(service)``), so they can be called without a server. Bad input raises ``gr.Error`` with a readable
message naming the input (the domain's checks, ``images.inputs``), never a stack trace. Scoring requests go
through one queue (``images.batching``, the service's) that batches concurrent requests with the same settings;
the status line shows a request's place in it and its expected wait.
"""
from __future__ import annotations

import json
import logging
import math
from typing import Dict, List, Optional, Sequence, Tuple

import gradio as gr
from gradio.components.plot import PlotData

from ..images import inputs
from ..images.batching import describe_status
from ..images.demo import (
    DEFAULT_PRESET,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    GUIDANCE_SCALE,
    MAX_STEPS,
    MIN_STEPS,
    THRESHOLD_DIGITS,
    ImagesDemo,
    judge,
    presets,
)
from ..images.inputs import (
    LIMITS_TEXT,
    PRESET_LABEL,
    SEED_LABEL,
    STEPS_LABEL,
    THRESHOLD_LABEL,
    PromptItem,
    check_preset,
    check_seed,
    check_steps,
    check_threshold,
)
from . import images_plots
from .errors import checked_by_handler, user_errors

log = logging.getLogger(__name__)

#: threshold slider: default threshold +- this, or +- twice the examples' largest distance from it if larger
#: (the reward's scale is set by its training)
THRESHOLD_HALF_RANGE = 1.0
#: scoring requests the app lets wait at once in the scoring queue (they are batched while they wait)
MAX_WAITING_REQUESTS = 32


# ------------------------------------------------------------------ input checks
def parse_results(results) -> Dict:
    """A results JSON (dict or JSON text) as produced by images_score / images_example, checked."""
    if isinstance(results, str):
        try:
            results = json.loads(results) if results.strip() else None
        except ValueError:
            raise ValueError("results must be the JSON of a scored run (images_score's last output)") from None
    if not results:
        raise ValueError("nothing scored yet: score prompts or load the examples first")
    try:
        rows = results["rows"]
        if not isinstance(rows, list) or not 0 < len(rows) <= inputs.MAX_PROMPTS:
            raise TypeError
        for row in rows:
            if not isinstance(row["prompt"], str) or len(row["prompt"]) > inputs.MAX_PROMPT_CHARS:
                raise TypeError
            for key in ("base_reward", "safe_reward", "difference"):
                if not math.isfinite(float(row[key])):
                    raise ValueError
            if row.get("base_chain_score") is not None and not math.isfinite(float(row["base_chain_score"])):
                raise ValueError
            _check_notes(row)
    except (TypeError, KeyError, ValueError, AttributeError):
        raise ValueError(f"results must be the JSON of a scored run (images_score's last output): a 'rows' list "
                         f"of 1..{inputs.MAX_PROMPTS} rows with prompt, base_reward, safe_reward and "
                         f"difference (optional: label, base_chain_score, truncated, token_limit, ignored_text, "
                         f"unknown_words)") from None
    return results


def _check_notes(row: Dict) -> None:
    """The optional per-prompt fields a results JSON may carry have the types a scored run gives them."""
    words = row.get("unknown_words")
    if words is not None and (not isinstance(words, list) or len(words) > inputs.MAX_PROMPT_CHARS
                              or not all(isinstance(w, str) and len(w) <= inputs.MAX_PROMPT_CHARS
                                         for w in words)):
        raise TypeError
    if not isinstance(row.get("truncated", False), bool) or not isinstance(row.get("token_limit", 0), int):
        raise TypeError
    for key in ("ignored_text", "label"):
        if row.get(key) is not None and (not isinstance(row[key], str)
                                         or len(row[key]) > inputs.MAX_PROMPT_CHARS):
            raise TypeError


def threshold_range(threshold0: float, example_rows: Optional[Sequence[Dict]] = None) -> Tuple[float, float]:
    """(min, max) of the threshold slider: wide enough for every example's rewards (``example_rows``) twice over."""
    half = THRESHOLD_HALF_RANGE
    if example_rows:
        try:
            rewards = [float(row[key]) for row in example_rows for key in ("base_reward", "safe_reward")]
            half = max(half, 2 * max(abs(r - threshold0) for r in rewards))
        except (ValueError, KeyError, TypeError):
            pass
    step = 10 ** math.floor(math.log10(half))  # round ends: multiples of the leading digit's unit
    return (round(math.floor((threshold0 - half) / step) * step, 6),
            round(math.ceil((threshold0 + half) / step) * step, 6))


# ------------------------------------------------------------------ outputs
def _plot(results: Dict, threshold: float, half_width: float) -> PlotData:
    figure = images_plots.scores_figure(results["rows"], threshold, half_width=half_width)
    return PlotData(type="plotly", plot=images_plots.figure_json(figure))


def run_status(results: Dict) -> str:
    settings = results.get("settings", {})
    n = len(results["rows"])
    how = f"seed {settings.get('seed')}, {settings.get('n_steps')} steps, preset {settings.get('preset')}"
    if results.get("example"):
        return f"Precomputed examples ({how}): nothing was generated."
    text = f"Scored {n} prompt{'s' if n != 1 else ''} in {float(results.get('seconds', 0)):.1f} s ({how})"
    if results.get("batched_with"):
        text += f", in one batch with {results['batched_with']} other request(s)"
    if float(results.get("waited_s", 0) or 0) >= 0.1:
        text += f", after waiting {float(results['waited_s']):.1f} s for the model"
    return text + "."


def example_text(results: Dict) -> str:
    return "\n".join(row["prompt"] for row in results["rows"])


# ------------------------------------------------------------------ handlers (one per API endpoint)
class ImagesHandlers:
    """The tab's event handlers, on the ``ImagesDemo`` they are given; callable without a server."""

    def __init__(self, service: ImagesDemo):
        self.service = service

    def threshold_limits(self) -> Tuple[float, float]:
        """The threshold slider's range, which the handlers enforce too."""
        return threshold_range(self.service.default_threshold(), self.service.example_rows())

    def check_settings(self, seed, n_steps, preset, threshold) -> Tuple[int, int, str, float]:
        return (check_seed(seed), check_steps(n_steps, MIN_STEPS, MAX_STEPS), check_preset(preset, presets()),
                check_threshold(threshold, *self.threshold_limits()))

    def _gallery(self, results: Dict) -> List[tuple]:
        return [(path, caption) for path, caption in images_plots.gallery_items(results["rows"])
                if self.service.served_image(path)]

    def _views(self, results: Dict, threshold: float):
        """(table, gallery, plot) of a scored run at a threshold; verdicts "uncertain" within the reward's band."""
        half_width = self.service.default_half_width()
        table = images_plots.table_rows(results["rows"], threshold, judge(half_width), self.service.chain_rule())
        return images_plots.styled_table(table), self._gallery(results), _plot(results, threshold, half_width)

    @user_errors
    def score(self, prompts, file, seed, n_steps, preset, threshold, progress=gr.Progress()):
        """images_score: generate each prompt with and without safety guidance and score both images (through the
        scoring queue, which batches this request with concurrent ones of the same settings)."""
        items: List[PromptItem] = inputs.collect_prompts(prompts, file)
        seed, n_steps, preset, threshold = self.check_settings(seed, n_steps, preset, threshold)
        progress(0.0, desc="loading the models")
        self.service.load_models()

        def report(status):
            try:
                progress(status["fraction"], desc=describe_status(status, len(items)))
            except (TypeError, ValueError):  # progress is cosmetic: never fail a run because of it
                pass

        results = self.service.score(items, seed=seed, n_steps=n_steps, preset=preset, guidance_scale=GUIDANCE_SCALE,
                                     report=report)
        results["threshold"] = threshold
        return (*self._views(results, threshold), results)

    @user_errors
    def rethreshold(self, results, threshold):
        """images_threshold: the verdicts, table, gallery captions and plot of a scored run at a new threshold."""
        results = parse_results(results)
        threshold = check_threshold(threshold, *self.threshold_limits())
        return self._views(results, threshold)

    @user_errors
    def describe_run(self, results, threshold):
        """(status line, notes above the table) of a scored run: how it ran, how its verdicts agree with the
        labels given, and what the model cut or did not know of each prompt. Chained after every event (no API)."""
        results = parse_results(results)
        threshold = check_threshold(threshold, *self.threshold_limits())
        notes = images_plots.notes_markdown(results["rows"], threshold, judge(self.service.default_half_width()),
                                            self.service.chain_rule())
        return run_status(results), notes

    @user_errors
    def example(self, threshold):
        """images_example: the precomputed examples (instant: nothing is generated)."""
        threshold = check_threshold(threshold, *self.threshold_limits())
        results = self.service.load_examples()
        settings = results.get("settings", {})
        view = {**{k: v for k, v in results.items() if k != "command"}, "threshold": threshold, "example": True}
        return (example_text(results), settings.get("seed", DEFAULT_SEED), settings.get("n_steps", DEFAULT_STEPS),
                settings.get("preset", DEFAULT_PRESET), *self._views(results, threshold), view)

    @user_errors
    def download(self, results, threshold):
        """images_download: the scored run as a CSV (one row per prompt, verdicts at the threshold, settings)."""
        results = parse_results(results)
        threshold = check_threshold(threshold, *self.threshold_limits())
        path = self.service.download_folder() / f"image_rewards_{len(results['rows'])}_prompts.csv"
        half_width = self.service.default_half_width()
        images_plots.save_csv(path, results, threshold, judge(half_width), half_width, self.service.chain_rule())
        return str(path)


# ------------------------------------------------------------------ layout
INTRO = (
    "A small text-to-image latent diffusion model trained here (the **base**) and the same model under "
    "**Safe Latent Diffusion** guidance (the **expert**, steered away from an unsafe concept) generate each "
    "prompt from the same seed. The **relative reward** extracted from the pair by gradient matching scores "
    "each final latent: harmful images should get a *lower* reward than harmless ones, and the safety-guided "
    "image a higher reward than the unguided one. The verdict compares a reward with the threshold "
    "(at or above: *safe*). The table's *chain score* (this project's extension; the paper scores the final "
    "latent only) averages the reward over every latent of the unguided sampling chain and has its own "
    "calibrated threshold, which the slider does not move. The embedded model draws simple 64x64 scenes of "
    "about a hundred everyday things (animals, food, vehicles, buildings, plants, weather, objects, "
    "landscapes; list below) and a family of hazards (weapons, explosives, blood and wounds, fire, syringes, "
    "pills, bullets) drawn as plain shapes.")

def token_limit_text(max_tokens: int) -> str:
    """What the text encoder reads of a long prompt (the pipelines cut the rest, as Stable Diffusion does)."""
    return (f"The embedded model reads a prompt's first {max_tokens} tokens (about {max_tokens - 6} words; "
            "Stable Diffusion 1.x: 77) and ignores the rest; the table flags a prompt it cut.")


def band_text(half_width: float) -> str:
    if half_width <= 0:
        return "a reward at or above the threshold is judged safe"
    return (f"safe at or above threshold + {half_width:g}, unsafe below threshold - {half_width:g}, uncertain "
            f"between (band chosen on calibration prompts)")


def build_tab(service: ImagesDemo, demo: Optional[gr.Blocks] = None) -> Dict[str, gr.components.Component]:
    """Build the Images tab's components and events, wired to ``service``, inside the current Blocks / Tab
    context.

    ``demo``: the enclosing Blocks; when given, the precomputed examples are shown on page load.
    Returns the components by name (for tests).
    """
    handlers = ImagesHandlers(service)
    missing = service.models_missing()
    threshold0, half_width = service.default_threshold(), service.default_half_width()
    gr.Markdown(INTRO)
    summary = service.evaluation_summary()
    if summary:
        gr.Markdown(summary, elem_id="images-evaluation")
    if missing:
        gr.Markdown(f"**The image models are not available, so scoring is disabled:** {missing}",
                    elem_id="images-status")
    with gr.Row():
        with gr.Column(scale=2, min_width=320):
            prompts = checked_by_handler(gr.Textbox(
                label="Prompts (one per line)", lines=6, max_lines=20, elem_id="images-prompts",
                placeholder="a red apple on a wooden table\na house on fire",
                info=f"Limits: {LIMITS_TEXT}. {token_limit_text(service.token_limit())}"))
            if service.uses_embedded_model():
                with gr.Accordion("What the model can draw (its whole vocabulary)", open=False,
                                  elem_id="images-vocabulary"):
                    gr.Markdown(service.vocabulary_markdown())
            file = gr.File(label="...and/or a prompt file (.txt or .csv with a 'prompt' column, max 1 MB)",
                           file_types=[".txt", ".csv"], type="filepath", elem_id="images-file", height=120)
            with gr.Row():
                seed = checked_by_handler(gr.Number(DEFAULT_SEED, label=SEED_LABEL, precision=0, minimum=0,
                                                    elem_id="images-seed", min_width=80))
                n_steps = checked_by_handler(gr.Slider(MIN_STEPS, MAX_STEPS, value=DEFAULT_STEPS, step=1,
                                                       label=STEPS_LABEL, elem_id="images-steps"))
            preset = checked_by_handler(gr.Dropdown(
                list(presets()), value=DEFAULT_PRESET, label=PRESET_LABEL, elem_id="images-preset",
                allow_custom_value=True,
                info="strength of Safe Latent Diffusion's guidance; the paper used 'max'. Settings may follow a "
                     "preset: max: warmup_steps=5, momentum_scale=0"))
            threshold = checked_by_handler(gr.Slider(
                *threshold_range(threshold0, service.example_rows()), value=threshold0, step=10 ** -THRESHOLD_DIGITS,
                label=f"{THRESHOLD_LABEL} (default {threshold0:g})", elem_id="images-threshold",
                info=band_text(half_width)))
            with gr.Row():
                run = gr.Button("Score prompts", variant="primary", elem_id="images-score", interactive=not missing)
                examples = gr.Button("Load examples", elem_id="images-examples")
        with gr.Column(scale=5, min_width=320):
            status = gr.Markdown("", elem_id="images-run-status")
            notes = gr.Markdown("", elem_id="images-notes")
            table = gr.Dataframe(headers=images_plots.TABLE_HEADERS, label="Scores", elem_id="images-table",
                                 interactive=False, wrap=True, max_height=560, pinned_columns=1,
                                 column_widths=images_plots.TABLE_WIDTHS)
            gallery = gr.Gallery(label="Images: base and safety-guided (#: the table's row)",
                                 elem_id="images-gallery", columns=4, height="auto", object_fit="contain",
                                 preview=False, allow_preview=True)
            plot = gr.Plot(label="Rewards of all prompts", elem_id="images-plot")
            with gr.Accordion("Download: scores CSV", open=False, elem_id="images-downloads"):
                export = gr.Button("Prepare the CSV of the current scores", elem_id="images-export", size="sm")
                csv_file = gr.File(label="Scores CSV", elem_id="images-csv", interactive=False)
            with gr.Accordion("Scored run (JSON)", open=False):
                results = gr.JSON(label="Results", elem_id="images-results")

    views = [table, gallery, plot]
    on_status = {"show_progress_on": [status]}
    described = {"fn": handlers.describe_run, "inputs": [results, threshold], "outputs": [status, notes],
                 "api_visibility": "private", **on_status}
    run.click(handlers.score, [prompts, file, seed, n_steps, preset, threshold], [*views, results],
              api_name="images_score", concurrency_id="images_score", concurrency_limit=MAX_WAITING_REQUESTS,
              **on_status).success(**described)
    threshold.release(handlers.rethreshold, [results, threshold], views, api_name="images_threshold",
                      **on_status).success(**described)
    triggers = [examples.click] + ([demo.load] if demo is not None and service.examples_available() else [])
    gr.on(triggers, handlers.example, [threshold], [prompts, seed, n_steps, preset, *views, results],
          api_name="images_example", **on_status).success(**described)
    export.click(handlers.download, [results, threshold], [csv_file], api_name="images_download",
                 concurrency_id="images_download", **on_status)
    return {"prompts": prompts, "file": file, "seed": seed, "n_steps": n_steps, "preset": preset,
            "threshold": threshold, "score": run, "examples": examples, "table": table, "gallery": gallery,
            "plot": plot, "export": export, "csv": csv_file, "results": results, "status": status, "notes": notes}
