"""``python -m reward_demo images <command>``: the Images domain's commands.

STRUCTURE (shared file): each command is one entry of ``COMMANDS = {name: (ArgsDataclass, function)}``;
the dataclass's fields are the options (one-line docs are the --help text) and ``function(args)``
runs it (raise ValueError/FileNotFoundError for bad input). Commands import their module lazily,
inside the function, so that listing commands stays fast.

- embedded model (text_encoder.py, data.py, embedded.py): ``train-embedded``, ``embedded-report``,
  ``compare-concepts`` (safety_concepts.py: choosing SLD's safety concept)
- reward path (pipelines.py, recording.py, reward.py, evaluate.py): ``commands.COMMANDS`` (``record``,
  ``train-reward``, ``score``, ``evaluate``, ...) merged in below.
- Images tab (examples.py): ``examples`` (the tab's precomputed examples)
"""
from __future__ import annotations

from .commands import COMMANDS as REWARD_COMMANDS
from .embedded import EmbeddedTrainArgs, train_embedded_command
from .embedded_report import EmbeddedReportArgs, embedded_report_command
from .examples import COMMANDS as EXAMPLES_COMMANDS
from .safety_concepts import CompareConceptsArgs, compare_concepts_command

COMMANDS = {
    # ---- embedded model
    "train-embedded": (EmbeddedTrainArgs, train_embedded_command),
    "embedded-report": (EmbeddedReportArgs, embedded_report_command),
    "compare-concepts": (CompareConceptsArgs, compare_concepts_command),
    # ---- reward path (commands.py): record, train-reward, score, evaluate
    **REWARD_COMMANDS,
    # ---- Images tab (examples.py): examples
    **EXAMPLES_COMMANDS,
}
