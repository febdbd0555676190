"""How every tab reports errors: the library's ValueError / FileNotFoundError become ``gr.Error`` with the
message alone (it names the input and what is allowed), a cancelled run says so, and anything unexpected is
logged with its traceback on the server and reported briefly.

The convention every tab follows, so that a visitor sees the message and keeps the last good result:
- inputs are wrapped in ``checked_by_handler``: Gradio's own range / choice / type checks would answer
  "Value -5 is less than minimum value 0." (or a bare "upstream app has raised an exception" for a string
  in a number box) without naming the input; the handler checks and names it instead. An event whose handler
  returns a component (a prop update, e.g. a slider's new range) makes Gradio rebuild that input for the
  session without the override, so such events are also registered with ``preprocess=False``;
- events are queued (``queue=False`` drops the message and paints "Error" badges over the outputs) and
  show their progress and error badge on the tab's status line only (``show_progress_on=[status]``), so
  an error toasts its message while every output keeps its last good value."""
from __future__ import annotations

import functools
import logging

import gradio as gr


class RunCancelled(Exception):
    """The run's event was cancelled (Cancel button / client): stop working on it."""


def user_errors(fn):
    """Decorate an event handler so that it raises only ``gr.Error`` (no stack trace in the browser)."""
    log = logging.getLogger(fn.__module__)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except RunCancelled:
            raise gr.Error("run cancelled", print_exception=False) from None
        except (ValueError, FileNotFoundError) as exc:
            log.debug("%s rejected its input", fn.__name__, exc_info=True)
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:  # pragma: no cover - reported, not expected
            log.exception("%s failed", fn.__name__)
            raise gr.Error(f"internal error ({type(exc).__name__}): {exc}", print_exception=False) from None

    return wrapper


def checked_by_handler(component: gr.components.Component) -> gr.components.Component:
    """Pass any value of this input through to the handler, which checks it and names the input in its message
    (Gradio's own check of a slider's range or a dropdown's choices says only "Value -1 is less than minimum
    value 0"). An instance override: a gr.Slider subclass would make Gradio write a .pyi stub next to this file."""
    component.preprocess = lambda payload: payload
    return component
