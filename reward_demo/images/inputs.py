"""Checks of what a visitor gives the Images tab: the prompts, from a textbox (one prompt per line) and an uploaded
``.txt`` or ``.csv`` file, and the settings of a scoring run (seed, denoising steps, safety preset, threshold).

Pure functions, independent of the UI, so that every rule can be unit-tested. Every bad input raises
``ValueError`` with a message that names the input and says what is allowed; no input, whatever its bytes,
raises anything else.

Limits (stated in the Images tab and enforced here):

- ``MAX_FILE_BYTES``: an uploaded file is at most 1 MB (1,000,000 bytes);
- ``MAX_PROMPTS``: at most 32 prompts per run (textbox and file together);
- ``MAX_PROMPT_CHARS``: a prompt is at most 200 characters (after surrounding spaces are stripped and runs of
  whitespace collapsed to one space); ``MAX_LABEL_CHARS``: an optional label at most 40.

Formats:

- textbox and ``.txt``: one prompt per line; blank lines are dropped; UTF-8 (a byte-order mark is allowed);
- ``.csv``: UTF-8, comma-separated, a header row with a ``prompt`` column and optionally a ``label`` column
  (any case, other columns ignored); rows with an empty prompt are dropped. Fields may be quoted as usual.

Settings: one check per input (``check_seed``, ``check_steps``, ``check_preset``, ``check_threshold``). Each takes
the raw value (a number, a numeric string, or anything a client sends) and raises ``ValueError`` whose message starts
with the input's label as the Images tab shows it and says what is allowed, so the same message serves the tab, its
API and the tests.
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

MAX_FILE_BYTES = 1_000_000
MAX_PROMPTS = 32
MAX_PROMPT_CHARS = 200
MAX_LABEL_CHARS = 40
ALLOWED_EXTENSIONS = (".txt", ".csv")
#: one line for the UI
LIMITS_TEXT = (f"one prompt per line; at most {MAX_PROMPTS} prompts per run and {MAX_PROMPT_CHARS} characters per "
               f"prompt; files: .txt (one prompt per line) or .csv (a 'prompt' column, optional 'label'), UTF-8, "
               f"at most {MAX_FILE_BYTES // 1_000_000} MB")

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PromptItem:
    """One prompt to score, with the label its file gave it (``None`` when there was none)."""

    prompt: str
    label: Optional[str] = None


# ------------------------------------------------------------------ single prompts
def clean_prompt(raw: str, where: str) -> str:
    """Strip, collapse whitespace (tabs, odd spaces) to single spaces; reject control characters and
    prompts longer than MAX_PROMPT_CHARS. ``where`` names the prompt in messages (e.g. "line 3")."""
    text = _WHITESPACE.sub(" ", raw).strip()
    bad = sorted({ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs")})
    if bad:
        codes = ", ".join(f"U+{ord(ch):04X}" for ch in bad[:5])
        raise ValueError(f"{where}: the prompt contains control or invalid characters ({codes}); use plain text")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"{where}: the prompt has {len(text)} characters, at most {MAX_PROMPT_CHARS} are allowed "
                         f"(it starts {text[:40]!r})")
    return text


def check_count(items: Sequence, source: str) -> None:
    if len(items) > MAX_PROMPTS:
        raise ValueError(f"{source} has {len(items)} prompts: at most {MAX_PROMPTS} prompts per run are allowed; "
                         f"split them into several runs")


def parse_text(text: Optional[str], source: str = "the textbox") -> List[PromptItem]:
    """Prompts from text with one prompt per line; blank lines dropped. An empty result is not an error here
    (``collect_prompts`` decides whether the run has any prompt)."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise ValueError(f"{source} must be text, got {type(text).__name__}")
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    check_count(lines, source)
    return [PromptItem(clean_prompt(line, f"{source}, line {number}")) for number, line in lines]


# ------------------------------------------------------------------ files
def decode_text_file(data: bytes, name: str) -> str:
    """UTF-8 text of a file's bytes; binary content (NUL bytes) and other encodings are refused."""
    if not data:
        raise ValueError(f"file {name!r} is empty: it should hold one prompt per line (.txt) "
                         f"or a 'prompt' column (.csv)")
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"file {name!r} is {len(data):,} bytes: at most {MAX_FILE_BYTES:,} bytes (1 MB) are allowed")
    if b"\x00" in data:
        raise ValueError(f"file {name!r} looks binary (it contains NUL bytes): upload a UTF-8 text file (.txt or .csv)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"file {name!r} is not valid UTF-8 text (byte {exc.start} can not be decoded): save it as "
                         f"UTF-8") from None
    if not text.strip():
        raise ValueError(f"file {name!r} holds only whitespace: it should hold one prompt per line (.txt) or a "
                         f"'prompt' column (.csv)")
    return text


def parse_csv(text: str, name: str) -> List[PromptItem]:
    """Prompts from the ``prompt`` column (optional ``label``) of CSV text with a header row."""
    try:
        rows = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(rows, None)
        if header is None:
            raise ValueError(f"file {name!r} has no header row: the first row must name the columns, one of them "
                             f"'prompt'")
        columns = [column.strip().lstrip("\ufeff").lower() for column in header]
        if "prompt" not in columns:
            shown = ", ".join(repr(c) for c in header[:8]) or "none"
            raise ValueError(f"file {name!r} has no 'prompt' column (its header has {shown}): the CSV needs a header "
                             f"row with a column named 'prompt' (and optionally 'label')")
        p_col = columns.index("prompt")
        l_col = columns.index("label") if "label" in columns else None
        raw = []  # (line number, prompt, label) of the rows with a prompt
        for row in rows:
            prompt = row[p_col] if p_col < len(row) else ""
            if prompt.strip():
                label = row[l_col] if l_col is not None and l_col < len(row) else ""
                raw.append((rows.line_num, prompt, label))
    except csv.Error as exc:
        raise ValueError(f"file {name!r} is not a valid CSV file ({exc}); use comma-separated values with a header "
                         f"row") from None
    check_count(raw, f"file {name!r}")
    return [PromptItem(clean_prompt(prompt, f"file {name!r}, line {line}"), clean_label(label, name, line))
            for line, prompt, label in raw]


def clean_label(raw: str, name: str, line: int) -> Optional[str]:
    """A CSV row's optional label: plain text of at most MAX_LABEL_CHARS characters; empty -> None."""
    label = _WHITESPACE.sub(" ", raw).strip()
    if not label:
        return None
    if len(label) > MAX_LABEL_CHARS or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in label):
        raise ValueError(f"file {name!r}, line {line}: the label must be plain text of at most {MAX_LABEL_CHARS} "
                         f"characters")
    return label


def check_extension(name: str) -> str:
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ValueError(f"file {name!r} has an unsupported type {extension or '(no extension)'!r}: upload a .txt "
                         f"file (one prompt per line) or a .csv file with a 'prompt' column")
    return extension


def parse_file_bytes(data: bytes, name: str) -> List[PromptItem]:
    """Prompts of an uploaded file given its bytes and its name (the extension picks the format)."""
    extension = check_extension(name)
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"file {name!r}: expected the file's bytes, got {type(data).__name__}")
    text = decode_text_file(bytes(data), name)
    return parse_csv(text, name) if extension == ".csv" else parse_text(text, f"file {name!r}")


def read_prompt_file(path: Union[str, os.PathLike]) -> List[PromptItem]:
    """Prompts of a file on disk; the size limit is checked before anything is read."""
    path = Path(path)
    name = path.name
    check_extension(name)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"file {name!r} is {size:,} bytes: at most {MAX_FILE_BYTES:,} bytes (1 MB) are allowed")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise ValueError(f"file {name!r} can not be read ({exc.strerror or exc})") from None
    return parse_file_bytes(data, name)


def upload_path(upload) -> Optional[str]:
    """The path of a Gradio upload value: a path string, a ``FileData``-like dict / object, or None."""
    if upload is None or upload == "" or upload == []:
        return None
    if isinstance(upload, (list, tuple)):
        if len(upload) != 1:
            raise ValueError(f"upload one prompt file at a time (got {len(upload)})")
        upload = upload[0]
    if isinstance(upload, (str, os.PathLike)):
        return str(upload)
    if isinstance(upload, dict) and isinstance(upload.get("path"), str):
        return upload["path"]
    path = getattr(upload, "path", None) or getattr(upload, "name", None)
    if isinstance(path, str):
        return path
    raise ValueError(f"the uploaded file could not be read (unexpected value of type {type(upload).__name__})")


# ------------------------------------------------------------------ a run's prompts
def collect_prompts(text: Optional[str] = None, upload=None) -> List[PromptItem]:
    """The prompts of one run: the textbox's lines, then the uploaded file's prompts. Raises ValueError when
    there is none, or more than MAX_PROMPTS together."""
    items = parse_text(text)
    path = upload_path(upload)
    if path is not None:
        items = items + read_prompt_file(path)
    if not items:
        raise ValueError("no prompts: type one prompt per line in the textbox, or upload a .txt file (one prompt per "
                         "line) or a .csv file with a 'prompt' column")
    check_count(items, "this run (textbox and file together)")
    return items


# ------------------------------------------------------------------ a run's settings
SEED_LABEL = "Seed"
STEPS_LABEL = "Denoising steps"
PRESET_LABEL = "Safety guidance preset (SLD)"
THRESHOLD_LABEL = "Threshold"
MAX_SEED = 2 ** 32 - 1


def _number(value) -> float:
    if isinstance(value, bool):
        return float("nan")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, AttributeError):
        return float("nan")


def check_seed(seed, label: str = SEED_LABEL) -> int:
    value = _number(seed)
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"{label}: must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(value)


def check_steps(n_steps, low: int, high: int, label: str = STEPS_LABEL) -> int:
    value = _number(n_steps)
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise ValueError(f"{label}: must be a whole number from {low} to {high}, got {n_steps!r}")
    return int(value)


def check_preset(preset, choices: Sequence[str], label: str = PRESET_LABEL) -> str:
    """A preset of ``choices`` (any case), optionally followed by SLD settings that replace some of its numbers
    ("max: warmup_steps=5, momentum_scale=0", read by ``models.safety_preset``): "name" or "name: settings"."""
    text = preset.strip() if isinstance(preset, str) else ""
    name, sep, settings = text.partition(":")
    name = name.strip().lower()
    if name not in choices:
        raise ValueError(f"{label}: {preset!r} is not a preset; choose one of {', '.join(choices)}, optionally "
                         f"followed by SLD settings, as in max: warmup_steps=5, momentum_scale=0")
    settings = ", ".join(item.strip() for item in settings.split(",") if item.strip())
    if not settings:
        return name
    from .models import preset_with_settings, safety_preset

    checked = preset_with_settings(name, settings)
    try:
        safety_preset(checked)
    except ValueError as err:
        raise ValueError(f"{label}: {err}") from None
    return checked


def check_threshold(threshold, low: float, high: float, label: str = THRESHOLD_LABEL) -> float:
    value = _number(threshold)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{label}: must be a number from {low:g} to {high:g}, got {threshold!r}")
    return value
