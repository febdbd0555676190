"""Tables, figures and files of the Images tab, as pure functions of scored prompts.

A scored run is a plain dict (JSON-ready, what the tab keeps in its ``results`` JSON component)::

    {"settings": {"seed": 0, "n_steps": 50, "preset": "max", "guidance_scale": 7.5, ...},
     "rows": [{"prompt": str, "label": str | None, "base_reward": float, "safe_reward": float,
               "difference": float, "pair_image": path (optional)}, ...]}

The verdicts are not stored: they depend on the threshold, which the user may move after scoring.
"""
from __future__ import annotations

import csv
import json
from typing import Callable, List, Optional, Sequence

BASE_COLOUR = "#e4572e"
SAFE_COLOUR = "#2e86ab"
THRESHOLD_COLOUR = "#555555"
TABLE_HEADERS = ["#", "prompt", "label", "base reward", "safe reward", "safe - base", "verdict (base)",
                 "verdict (safe)"]
TABLE_WIDTHS = ["5%", "31%", "9%", "11%", "11%", "10%", "11.5%", "11.5%"]
TABLE_DIGITS = 3
CSV_COLUMNS = ["index", "prompt", "label", "base_reward", "safe_reward", "difference", "verdict_base", "verdict_safe",
               "threshold", "seed", "n_steps", "preset", "guidance_scale", "model"]


def default_verdict(reward: float, threshold: float) -> str:
    """The scoring module's rule when it is not importable: a reward at or above the threshold is safe."""
    return "safe" if reward >= threshold else "unsafe"


def table_rows(rows: Sequence[dict], threshold: float, verdict: Callable[[float, float], str] = default_verdict) -> list:
    """One table row per prompt: index, prompt, label, rewards, difference, verdicts of both images."""
    out = []
    for i, row in enumerate(rows, start=1):
        out.append([i, row["prompt"], row.get("label") or "", round(float(row["base_reward"]), TABLE_DIGITS),
                    round(float(row["safe_reward"]), TABLE_DIGITS), round(float(row["difference"]), TABLE_DIGITS),
                    verdict(float(row["base_reward"]), threshold), verdict(float(row["safe_reward"]), threshold)])
    return out


def short(prompt: str, n: int = 28) -> str:
    return prompt if len(prompt) <= n else prompt[: n - 1] + "\u2026"


def scores_figure(rows: Sequence[dict], threshold: float, *, title: Optional[str] = None, height: int = 420) -> dict:
    """A plotly figure (plain dict): per prompt, the base and the safe image's reward joined by a line,
    and the threshold as a dashed horizontal line. Hover shows the whole prompt."""
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
    low = min(base + safe + [threshold])
    high = max(base + safe + [threshold])
    pad = 0.08 * (high - low) or 0.5
    layout = {
        "title": {"text": title or f"Learned safety reward of {len(rows)} prompt(s): base vs safe image",
                  "font": {"size": 14}, "x": 0.5},
        "height": height, "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "hovermode": "closest",
        "xaxis": {"title": {"text": "prompt (# of the table; hover a point for its text)"}, "tickvals": xs,
                  "ticktext": [f"#{x}" for x in xs], "range": [0.4, len(rows) + 0.6], "zeroline": False},
        "yaxis": {"title": {"text": "reward of the final latent"}, "range": [low - pad, high + pad], "zeroline": False},
        "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": threshold, "y1": threshold,
                    "line": {"color": THRESHOLD_COLOUR, "width": 1.5, "dash": "dash"}}],
        "annotations": [{"xref": "paper", "x": 1, "xanchor": "right", "y": threshold, "yanchor": "bottom",
                         "text": f"threshold {threshold:g}: above = safe", "showarrow": False,
                         "font": {"size": 11, "color": THRESHOLD_COLOUR}}],
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": 1.0, "yanchor": "bottom"},
        "meta": {"n": len(rows), "threshold": threshold},
    }
    return {"data": traces, "layout": layout}


def figure_json(figure: dict) -> str:
    return json.dumps(figure, separators=(",", ":"), allow_nan=False)


def gallery_caption(index: int, row: dict, threshold: float, verdict: Callable[[float, float], str] = default_verdict) -> str:
    b, s = float(row["base_reward"]), float(row["safe_reward"])
    return (f"{index}. {short(row['prompt'], 60)} | left base: {b:.3f} ({verdict(b, threshold)}) | "
            f"right safe: {s:.3f} ({verdict(s, threshold)})")


def gallery_items(rows: Sequence[dict], threshold: float,
                  verdict: Callable[[float, float], str] = default_verdict) -> List[tuple]:
    """(image path, caption) per prompt that has a pair image."""
    return [(row["pair_image"], gallery_caption(i, row, threshold, verdict))
            for i, row in enumerate(rows, start=1) if row.get("pair_image")]


def csv_text(text: str) -> str:
    """A text cell that spreadsheets will not run as a formula (prompts are user input)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def save_csv(path, results: dict, threshold: float, verdict: Callable[[float, float], str] = default_verdict) -> int:
    """One row per prompt (CSV_COLUMNS); returns the number of rows."""
    settings = results.get("settings", {})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for i, row in enumerate(results["rows"], start=1):
            b, s = float(row["base_reward"]), float(row["safe_reward"])
            writer.writerow([i, csv_text(row["prompt"]), csv_text(row.get("label") or ""), f"{b:.8g}", f"{s:.8g}",
                             f"{float(row['difference']):.8g}", verdict(b, threshold), verdict(s, threshold),
                             f"{threshold:.10g}", settings.get("seed", ""), settings.get("n_steps", ""),
                             settings.get("preset", ""), settings.get("guidance_scale", ""), settings.get("model", "")])
    return len(results["rows"])
