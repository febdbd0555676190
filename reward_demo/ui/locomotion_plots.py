"""The Locomotion tab's two figures: the cumulative environment return of the base and steered planner over
the episode, and the learned reward along each executed trajectory (plotly, ``figure_style``'s look)."""
from __future__ import annotations

import json
from typing import Dict, List, Optional, Tuple

import numpy as np
from gradio.components.plot import PlotData

from ..locomotion.demo import GYM_IDS, PLANNERS, rounded
from .figure_style import themed_layout, wrap_title

COLOURS = {"base": "#7f7f7f", "steered": "#d6249f"}
LABELS = {"base": "base planner", "steered": "steered base (learned reward)"}
WIDTHS = {"base": 4.5, "steered": 2.0}  # the base line drawn wider underneath: identical curves stay visible
#: narrow enough for a plot on a phone (about 340 px wide)
TITLE_WIDTH = 36
#: shown in the learned-reward plot until the first step's reward window is complete
PENDING_REWARD_NOTE = ("Each step's learned reward reads the window of steps that follow it: its curve starts once "
                       "that many steps have run.")


def _steps(n: int) -> List[int]:
    return list(range(1, n + 1))


def returns_figure(curves: Dict[str, dict], title: str, steps: Optional[int] = None) -> dict:
    """Cumulative environment return of each planner over the episode (a cross where an episode ended early);
    ``steps``: the x axis spans the whole episode (a run in progress fills it in)."""
    traces = []
    for planner in PLANNERS:
        if planner not in curves:
            continue
        cum = np.cumsum(np.asarray(curves[planner]["env_rewards"], dtype=np.float64))
        traces.append({"type": "scatter", "mode": "lines", "name": LABELS[planner], "x": _steps(len(cum)),
                       "y": rounded(cum, 3), "line": {"color": COLOURS[planner], "width": WIDTHS[planner]},
                       "hovertemplate": "step %{x}<br>return %{y:.1f}<extra>" + planner + "</extra>"})
        if curves[planner].get("fell") and len(cum):
            traces.append({"type": "scatter", "mode": "markers", "name": f"{planner} falls", "x": [len(cum)],
                           "y": [round(float(cum[-1]), 3)], "showlegend": False,
                           "marker": {"symbol": "x", "size": 11, "color": COLOURS[planner]},
                           "hovertemplate": f"{planner}: episode ends (fell) at step %{{x}}<extra></extra>"})
    return _figure(traces, title, "cumulative environment return", steps)


def learned_reward_figure(curves: Dict[str, dict], title: str, steps: Optional[int] = None) -> dict:
    """The learned relative reward along each executed trajectory."""
    traces = [{"type": "scatter", "mode": "lines", "name": LABELS[p], "x": _steps(len(curves[p]["learned_rewards"])),
               "y": rounded([np.nan if v is None else v for v in curves[p]["learned_rewards"]], 5),
               "line": {"color": COLOURS[p], "width": WIDTHS[p]},
               "hovertemplate": "step %{x}<br>learned reward %{y:.4f}<extra>" + p + "</extra>"}
              for p in PLANNERS if p in curves]
    figure = _figure(traces, title, "learned reward r(s, a)", steps)
    if any(curves[p]["env_rewards"] for p in curves) and not any(v is not None for t in traces for v in t["y"]):
        # a run's first steps: each step's reward reads the window of steps after it, none complete yet
        figure["layout"]["annotations"] = [{
            "text": wrap_title(PENDING_REWARD_NOTE, TITLE_WIDTH + 4), "showarrow": False, "xref": "paper",
            "yref": "paper", "x": 0.5, "y": 0.5, "font": {"size": 12}}]
    return figure


def _figure(traces: list, title: str, ytitle: str, steps: Optional[int]) -> dict:
    xaxis = {"title": {"text": "environment step"}, "rangemode": "tozero"}
    if steps:
        xaxis["range"] = [0, steps]
    return {"data": traces,
            "layout": themed_layout({
                "title": {"text": wrap_title(title, TITLE_WIDTH), "font": {"size": 14}, "x": 0.5,
                          "xanchor": "center"},
                # room below the x axis title for a legend on two lines (a phone's width)
                "height": 370, "margin": {"l": 60, "r": 16, "t": 56, "b": 118}, "xaxis": xaxis,
                "yaxis": {"title": {"text": ytitle}},
                "legend": {"orientation": "h", "y": -0.36, "yanchor": "top", "x": 0},
                "hovermode": "x unified", "template": "plotly_white"})}


def _plot(figure: dict) -> PlotData:
    return PlotData(type="plotly", plot=json.dumps(figure, separators=(",", ":"), allow_nan=False))


def figures(env: str, curves: Dict[str, dict], steps: Optional[int] = None) -> Tuple[PlotData, PlotData]:
    """(returns plot, learned-reward plot) of ``curves`` ({planner: ``Episode.curves()``}; empty: empty plots)."""
    return (_plot(returns_figure(curves, f"{GYM_IDS[env]}: cumulative return", steps)),
            _plot(learned_reward_figure(curves, f"{GYM_IDS[env]}: learned reward along each trajectory", steps)))
