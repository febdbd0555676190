"""``python -m reward_demo locomotion <command>``: the locomotion domain's commands.

Until the domain is registered in ``reward_demo/cli.py``: ``python -m reward_demo.locomotion.cli <command> [options]``.
"""
from __future__ import annotations

from .experts import ExpertTrainArgs, train_expert_command

COMMANDS = {"train-expert": (ExpertTrainArgs, train_expert_command)}

if __name__ == "__main__":
    import sys

    import tyro

    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python -m reward_demo.locomotion.cli {{{','.join(COMMANDS)}}} [options]", file=sys.stderr)
        sys.exit(2)
    args_type, function = COMMANDS[sys.argv[1]]
    function(tyro.cli(args_type, args=sys.argv[2:], prog=f"python -m reward_demo.locomotion.cli {sys.argv[1]}",
                      description=args_type.__doc__))
