"""One look for every plotly figure in the app: transparent backgrounds, so the page's light or dark theme
shows through, and titles that stay inside narrow plots. The app's stylesheet (``ui.app.CSS``) recolours
plotly's text, grid and legend in dark mode, which a figure built on the server cannot know about."""
from __future__ import annotations

import textwrap

TRANSPARENT = "rgba(0,0,0,0)"


def wrap_title(text: str, width: int = 48) -> str:
    """A plotly title broken into lines of at most ``width`` characters (plotly never wraps, it clips)."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def themed_layout(layout: dict) -> dict:
    """``layout`` with transparent paper and plot backgrounds (a plot colour the figure sets is kept) and a
    transparent legend; everything else as given."""
    legend = {"bgcolor": TRANSPARENT, **layout.get("legend", {})}
    return {**layout, "paper_bgcolor": TRANSPARENT, "plot_bgcolor": layout.get("plot_bgcolor", TRANSPARENT),
            "legend": legend}
