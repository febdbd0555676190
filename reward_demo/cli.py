"""``python -m reward_demo <domain> <command> [--options]``: one command line for every domain, the table of
domains and the dispatch only.

Each domain's ``cli`` module exposes ``COMMANDS = {name: (ArgsDataclass, function)}``; the options of a command
are the fields of its dataclass (one-line docs become the ``--help`` text; options shared between commands are
the option groups of ``options.py``, as is ``reproduce_command``). Nothing else in the package imports this module.
"""
from __future__ import annotations

import sys
from typing import Dict, List, Optional


def domains() -> Dict[str, dict]:
    """{domain: its command table}."""
    # imported on demand so that `--help` and one domain's commands do not load every domain
    from . import docs_tables, gaussian
    from .images import cli as images_cli
    from .locomotion import cli as locomotion_cli
    from .maze import cli as maze_cli

    return {"gaussian": gaussian.COMMANDS, "maze": maze_cli.COMMANDS, "locomotion": locomotion_cli.COMMANDS,
            "images": images_cli.COMMANDS, "docs": docs_tables.COMMANDS}


def usage(table: Dict[str, dict]) -> str:
    lines = ["usage: python -m reward_demo <domain> <command> [options]   (add --help to a command for its options)",
             ""]
    for domain, commands in table.items():
        for name, (args_type, _) in commands.items():
            doc = (args_type.__doc__ or "").strip().splitlines()[0]
            lines.append(f"  {domain + ' ' + name:<26} {doc}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    import tyro

    argv = list(sys.argv[1:] if argv is None else argv)
    table = domains()
    if len(argv) < 2 or argv[0] not in table or argv[1] not in table[argv[0]]:
        if argv and argv[0] not in ("-h", "--help"):
            wanted = " ".join(argv[:2])
            print(f"error: unknown command {wanted!r}\n", file=sys.stderr)
            print(usage(table), file=sys.stderr)
            return 2
        print(usage(table))
        return 0
    domain, command, rest = argv[0], argv[1], argv[2:]
    args_type, function = table[domain][command]
    args = tyro.cli(args_type, args=rest, prog=f"python -m reward_demo {domain} {command}",
                    description=args_type.__doc__)
    try:
        function(args)
    except (ValueError, FileNotFoundError) as error:  # bad input: a clear message, not a stack trace
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
