"""``python -m reward_demo locomotion <command>``: the locomotion domain's command table (each command's options
and function live with its work: experts.py, train.py, onpolicy.py, evaluate.py)."""
from __future__ import annotations

from .evaluate import LocoEvaluateArgs, LocoSweepArgs, evaluate_command, sweep_command
from .experts import ExpertTrainArgs, RecordExpertArgs, record_expert_command, train_expert_command
from .onpolicy import FinetuneRewardArgs, finetune_reward_command
from .report import LocoReportArgs, report_command
from .train import LocoTrainArgs, train_planners_command

COMMANDS = {"train-expert": (ExpertTrainArgs, train_expert_command),
            "record-expert": (RecordExpertArgs, record_expert_command),
            "train-planners": (LocoTrainArgs, train_planners_command),
            "finetune-reward": (FinetuneRewardArgs, finetune_reward_command),
            "sweep": (LocoSweepArgs, sweep_command),
            "evaluate": (LocoEvaluateArgs, evaluate_command),
            "report": (LocoReportArgs, report_command)}
