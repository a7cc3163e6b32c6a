"""Entry point: ``animate-bot [run]`` starts the Discord bot, ``animate-bot animate …`` is the CLI.

``python -m bot`` behaves like ``animate-bot``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "animate":
        from bot.cli import main as cli_main

        return cli_main(args[1:])
    if args and args[0] == "run":
        args = args[1:]
    if args and args[0] in {"-h", "--help"}:
        print(  # noqa: T201 - command-line help goes to stdout
            "usage: animate-bot [run] | animate-bot animate IMAGE PROMPT [options]\n"
            "  run      start the Discord bot (settings from the environment / .env)\n"
            "  animate  make one video from the command line (see animate-bot animate --help)"
        )
        return 0
    from bot.runner import main as run_main

    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
