"""Tables, figures and files of the Images tab, as pure functions of scored prompts.

A scored run is a plain dict (JSON-ready, what the tab keeps in its ``results`` JSON component)::

    {"settings": {"seed": 0, "n_steps": 50, "preset": "max", "guidance_scale": 7.5, ...},
     "rows": [{"prompt": str, "label": str | None, "base_reward": float, "safe_reward": float,
               "difference": float, "base_chain_score": float | None, "truncated": bool, "n_tokens": int,
               "token_limit": int, "ignored_text": str, "unknown_words": [str] | None, "base_image": path,
               "safe_image": path}, ...]}

The verdicts are not stored: they depend on the threshold, which the user may move after scoring ("uncertain"
inside the reward's calibrated band around it; the ``verdict`` callables here take (reward, threshold)). The chain
score (this project's extension, ``inference.chain_score``) has its own calibrated threshold and band, which the
slider does not move (``chain_rule``: (threshold, half-width), None for a reward without them).
"""
from __future__ import annotations

import csv
import json
from typing import Callable, List, Optional, Sequence, Tuple

from ..images import verdicts
from .figure_style import themed_layout, wrap_title

BASE_COLOUR = "#e4572e"
SAFE_COLOUR = "#2e86ab"
THRESHOLD_COLOUR = "#888888"
UNCERTAIN_FILL = "rgba(242,193,46,0.25)"
TABLE_HEADERS = ["#", "prompt", "label", "base reward", "safe reward", "safe - base", "verdict (base)",
                 "verdict (safe)", "chain score (base)", "verdict (chain)", "notes"]
#: pixels: wide enough that no number ("-31.701") or verdict breaks; narrower screens scroll the table sideways
TABLE_WIDTHS = [30, 130, 70, 84, 84, 66, 94, 94, 84, 94, 132]
TABLE_DIGITS = 3
CSV_COLUMNS = ["index", "prompt", "label", "base_reward", "safe_reward", "difference", "verdict_base", "verdict_safe",
               "truncated", "unknown_words", "threshold", "uncertain_half_width", "seed", "n_steps", "preset",
               "guidance_scale", "model", "base_chain_score", "verdict_chain", "chain_threshold",
               "chain_uncertain_half_width"]
#: cell colours of the verdicts: a dark fill with white text (black on yellow) reads in light and dark mode
VERDICT_STYLES = {verdicts.SAFE: "background-color: #1b7a3d; color: #ffffff",
                  verdicts.UNSAFE: "background-color: #b3261e; color: #ffffff",
                  verdicts.UNCERTAIN: "background-color: #f2c12e; color: #1a1a1a"}


#: numbers and verdicts never break inside (a narrow screen scrolls the table sideways instead)
NO_BREAK = "; white-space: nowrap"


def default_verdict(reward: float, threshold: float) -> str:
    """The plain threshold rule (no uncertain band): a reward at or above the threshold is safe."""
    return verdicts.verdict(reward, threshold)


def row_notes(row: dict) -> str:
    """What the model did not read or know of a prompt: "cut after 24 tokens; unknown words: puppy, grass"."""
    notes = []
    if row.get("truncated"):
        notes.append(f"cut after {row.get('token_limit')} tokens")
    if row.get("unknown_words"):
        notes.append("unknown words: " + ", ".join(row["unknown_words"]))
    return "; ".join(notes)


def chain_cells(row: dict, chain_rule: Optional[Tuple[float, float]]) -> tuple:
    """(the base image's chain score, its verdict at the calibrated chain rule); None for what a run or a reward
    does not have (a run scored before the chain score existed, a reward without a chain threshold)."""
    score = row.get("base_chain_score")
    if score is None:
        return None, None
    return float(score), None if chain_rule is None else verdicts.verdict(float(score), *chain_rule)


def table_rows(rows: Sequence[dict], threshold: float,
               verdict: Callable[[float, float], str] = default_verdict,
               chain_rule: Optional[Tuple[float, float]] = None) -> list:
    """One table row per prompt: index, prompt, label, rewards, difference, verdicts of both images, the base
    image's chain score and its verdict ("" where missing), notes."""
    out = []
    for i, row in enumerate(rows, start=1):
        chain, chain_verdict = chain_cells(row, chain_rule)
        out.append([i, row["prompt"], row.get("label") or "", round(float(row["base_reward"]), TABLE_DIGITS),
                    round(float(row["safe_reward"]), TABLE_DIGITS), round(float(row["difference"]), TABLE_DIGITS),
                    verdict(float(row["base_reward"]), threshold), verdict(float(row["safe_reward"]), threshold),
                    "" if chain is None else round(chain, TABLE_DIGITS), chain_verdict or "", row_notes(row)])
    return out


def styled_table(table: list):
    """The table as a pandas Styler: verdict cells coloured (VERDICT_STYLES), numbers with TABLE_DIGITS decimals.
    The cells keep their plain values ("safe", -4.061), which API clients and the CSV get."""
    import pandas as pd

    frame = pd.DataFrame(table, columns=TABLE_HEADERS)
    columns = ["verdict (base)", "verdict (safe)", "verdict (chain)"]
    numbers = ["base reward", "safe reward", "safe - base", "chain score (base)"]
    style = frame.style.map(lambda value: VERDICT_STYLES.get(value, "") + NO_BREAK, subset=columns)
    style = style.map(lambda value: NO_BREAK, subset=["#", "label", *numbers])
    return style.format(precision=TABLE_DIGITS, subset=numbers).hide(axis="index")


def short(prompt: str, n: int = 28) -> str:
    return prompt if len(prompt) <= n else prompt[: n - 1] + "\u2026"


def scores_figure(rows: Sequence[dict], threshold: float, *, title: Optional[str] = None, height: int = 420,
                  half_width: float = 0.0) -> dict:
    """A plotly figure (plain dict): per prompt, the base and the safe image's reward joined by a line, the
    threshold as a dashed horizontal line and the uncertain band around it shaded. Hover shows the whole prompt."""
    xs = list(range(1, len(rows) + 1))
    base = [round(float(r["base_reward"]), 5) for r in rows]
    safe = [round(float(r["safe_reward"]), 5) for r in rows]
    prompts = [r["prompt"] for r in rows]
    links_x, links_y = [], []
    for x, b, s in zip(xs, base, safe):
        links_x += [x, x, None]
        links_y += [b, s, None]
    hover = "#%{x}: %{customdata}<br>reward=%{y:.4f}<extra>%{fullData.name}</extra>"
    traces = [
        {"type": "scatter", "mode": "lines", "x": links_x, "y": links_y, "showlegend": False, "hoverinfo": "skip",
         "line": {"color": "#bbbbbb", "width": 2}},
        {"type": "scatter", "mode": "markers", "name": "base image (no safety guidance)", "x": xs, "y": base,
         "customdata": prompts, "hovertemplate": hover,
         "marker": {"symbol": "circle", "size": 11, "color": BASE_COLOUR, "line": {"color": "black", "width": 1}}},
        {"type": "scatter", "mode": "markers", "name": "safe image (safety guidance)", "x": xs, "y": safe,
         "customdata": prompts, "hovertemplate": hover,
         "marker": {"symbol": "diamond", "size": 11, "color": SAFE_COLOUR, "line": {"color": "black", "width": 1}}},
    ]
    low = min(base + safe + [threshold - half_width])
    high = max(base + safe + [threshold + half_width])
    pad = 0.08 * (high - low) or 0.5
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": threshold, "y1": threshold,
               "line": {"color": THRESHOLD_COLOUR, "width": 1.5, "dash": "dash"}}]
    if half_width > 0:
        shapes.insert(0, {"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "y0": threshold - half_width,
                          "y1": threshold + half_width, "fillcolor": UNCERTAIN_FILL, "line": {"width": 0},
                          "layer": "below"})
    band = f" \u00b1 {half_width:g} uncertain" if half_width > 0 else ""
    layout = {
        "title": {"text": wrap_title(title or "Rewards: base vs safety-guided image"),
                  "font": {"size": 14}, "x": 0.5},
        "height": height, "margin": {"l": 60, "r": 20, "t": 80, "b": 60}, "hovermode": "closest",
        "xaxis": {"title": {"text": "prompt (# of the table)"}, "tickvals": xs,
                  "ticktext": [f"#{x}" for x in xs], "range": [0.4, len(rows) + 0.6], "zeroline": False},
        "yaxis": {"title": {"text": "reward of the final latent"}, "range": [low - pad, high + pad], "zeroline": False},
        "shapes": shapes,
        "annotations": [{"xref": "paper", "x": 1, "xanchor": "right", "y": threshold + half_width,
                         "yanchor": "bottom", "text": f"threshold {threshold:g}{band}",
                         "showarrow": False, "font": {"size": 11}}],
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": 1.0, "yanchor": "bottom"},
        "meta": {"n": len(rows), "threshold": threshold, "half_width": half_width},
    }
    return {"data": traces, "layout": themed_layout(layout)}


def figure_json(figure: dict) -> str:
    return json.dumps(figure, separators=(",", ":"), allow_nan=False)


def gallery_items(rows: Sequence[dict]) -> List[tuple]:
    """(image path, caption) for each prompt's base image, then its safe image: "#3 base", "#3 safe". Short enough
    for a phone's gallery tile; the prompt, rewards and verdicts are in the table's row #3."""
    return [(row[f"{kind}_image"], f"#{i} {kind}") for i, row in enumerate(rows, start=1)
            for kind in ("base", "safe") if isinstance(row.get(f"{kind}_image"), str)]


def csv_text(text: str) -> str:
    """A text cell that spreadsheets will not run as a formula (prompts are user input)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def save_csv(path, results: dict, threshold: float, verdict: Callable[[float, float], str] = default_verdict,
             half_width: float = 0.0, chain_rule: Optional[Tuple[float, float]] = None) -> int:
    """One row per prompt (CSV_COLUMNS); returns the number of rows. ``half_width``: the uncertain band ``verdict``
    uses, written beside the threshold; ``chain_rule``: the chain score's (threshold, half-width)."""
    settings = results.get("settings", {})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for i, row in enumerate(results["rows"], start=1):
            b, s = float(row["base_reward"]), float(row["safe_reward"])
            writer.writerow([i, csv_text(row["prompt"]), csv_text(row.get("label") or ""), f"{b:.8g}", f"{s:.8g}",
                             f"{float(row['difference']):.8g}", verdict(b, threshold), verdict(s, threshold),
                             bool(row.get("truncated")), csv_text(" ".join(row.get("unknown_words") or [])),
                             f"{threshold:.10g}", f"{half_width:g}", settings.get("seed", ""),
                             settings.get("n_steps", ""),
                             settings.get("preset", ""), settings.get("guidance_scale", ""), settings.get("model", ""),
                             *chain_csv_cells(row, chain_rule)])
    return len(results["rows"])


def chain_csv_cells(row: dict, chain_rule: Optional[Tuple[float, float]]) -> list:
    chain, chain_verdict = chain_cells(row, chain_rule)
    return ["" if chain is None else f"{chain:.8g}", chain_verdict or "",
            "" if chain_rule is None else f"{chain_rule[0]:.10g}", "" if chain_rule is None else f"{chain_rule[1]:g}"]


def markdown_text(text: str) -> str:
    """User text shown literally inside Markdown (its markup characters escaped)."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|~" else ch for ch in text)


def notes_markdown(rows: Sequence[dict], threshold: float,
                   verdict: Callable[[float, float], str] = default_verdict,
                   chain_rule: Optional[Tuple[float, float]] = None) -> str:
    """Above the table: how the verdicts agree with the labels given (the chain score's too, where every row has
    one and ``chain_rule`` is given), and per prompt what the model cut or did not know (empty when there is
    nothing to say)."""
    lines = []
    labels = [row.get("label") for row in rows]
    agreement = verdicts.label_agreement(labels, [verdict(float(row["base_reward"]), threshold) for row in rows])
    if agreement is not None:
        text = verdicts.agreement_text(agreement)
        chains = [chain_cells(row, chain_rule)[1] for row in rows]
        if all(chains):
            text += "; " + verdicts.agreement_text(verdicts.label_agreement(labels, chains),
                                                   "the chain score's verdict").split(": ", 1)[1]
        lines.append(text[:1].upper() + text[1:] + ".")
    for i, row in enumerate(rows, start=1):
        if row.get("truncated"):
            lines.append(f"- #{i} is longer than the {row.get('token_limit')} tokens the model reads: it ignored "
                         f"\"{markdown_text(short(row.get('ignored_text') or '', 60))}\".")
        if row.get("unknown_words"):
            lines.append(f"- #{i}: no training caption uses {', '.join(repr(w) for w in row['unknown_words'])}; "
                         f"its verdict is a guess.")
    return "\n".join(lines)
