"""How every tab reports errors: the library's ValueError / FileNotFoundError become ``gr.Error`` with the
message alone (it names the input and what is allowed), a cancelled run says so, and anything unexpected is
logged with its traceback on the server and reported briefly."""
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
