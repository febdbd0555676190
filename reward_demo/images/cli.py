"""``python -m reward_demo images <command>``: the Images domain's command table.

STRUCTURE (shared file): each command is one entry of ``COMMANDS = {name: (ArgsDataclass, function)}``;
the dataclass's fields are the options (one-line docs are the --help text) and ``function(args)``
runs it (raise ValueError/FileNotFoundError for bad input). Each function lives in the module it belongs to,
which imports its heavy dependencies lazily, inside the function, so that listing commands stays fast.
"""
from __future__ import annotations

from .calibration import CalibrateArgs, calibrate_threshold
from .compare import CompareRewardsArgs, compare_rewards_command
from .data import RecordArgs, record_command
from .demo import ExamplesArgs, run_make_examples
from .embedded.report import EmbeddedReportArgs, embedded_report_command
from .embedded.safety_concepts import CompareConceptsArgs, PlotConceptsArgs, compare_concepts_command, plot_concepts
from .embedded.train import EmbeddedTrainArgs, train_embedded_command
from .evaluate import ImagesEvaluateArgs, evaluate_command
from .inference import ScoreArgs, score_command
from .train import TrainRewardArgs, train_reward_command

COMMANDS = {
    # ---- the embedded model (embedded/): train it, report on it, choose its SLD safety concept and settings
    "train-embedded": (EmbeddedTrainArgs, train_embedded_command),
    "embedded-report": (EmbeddedReportArgs, embedded_report_command),
    "compare-concepts": (CompareConceptsArgs, compare_concepts_command),
    "plot-concepts": (PlotConceptsArgs, plot_concepts),
    # ---- the reward path: record chains (data.py), train the reward (train.py), score prompt files (inference.py)
    "record": (RecordArgs, record_command),
    "train-reward": (TrainRewardArgs, train_reward_command),
    "score": (ScoreArgs, score_command),
    # ---- its evaluation and calibration (evaluate.py, verdicts.py)
    "evaluate": (ImagesEvaluateArgs, evaluate_command),
    "compare-rewards": (CompareRewardsArgs, compare_rewards_command),
    "calibrate-threshold": (CalibrateArgs, calibrate_threshold),
    # ---- the Images tab (demo.py): its precomputed examples
    "examples": (ExamplesArgs, run_make_examples),
}
