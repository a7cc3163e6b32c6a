"""Entry point: ``animate-bot [run]`` starts the chat bot (Discord and/or Slack; unless
``ENGINE=off``, the job engine beside it), ``animate-bot worker`` the job engine alone,
``animate-bot animate …`` is the CLI, ``animate-bot health`` is the container health check,
``animate-bot demo`` a local playground.

``python -m bot`` behaves like ``animate-bot``.
"""

from __future__ import annotations

import sys

USAGE = (
    "usage: animate-bot [run [--sync]] | animate-bot worker"
    " | animate-bot animate IMAGE PROMPT [options] | animate-bot health"
    " | animate-bot doctor [--online] | animate-bot demo [--port 8080]\n"
    "  run      start the bot on Discord and/or Slack (settings from the environment / .env);\n"
    "           ENGINE=off: without the job engine (workers run it; needs DATABASE_URL)\n"
    "  worker   run the job engine alone: no gateway, results posted through REST\n"
    "  animate  make one video from the command line (see animate-bot animate --help)\n"
    "  health   exit 0 if the running bot's delivery loop and database are healthy, else 1\n"
    "  doctor   check the settings and what they point at, one line per problem\n"
    "  demo     a local playground in the browser: no tokens or accounts needed"
    " (see animate-bot demo --help)"
)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "animate":
        from bot.cli import main as cli_main

        return cli_main(args[1:])
    if args and args[0] == "doctor":
        from bot.doctor import main as doctor_main

        return doctor_main(args[1:])
    if args and args[0] == "demo":
        from bot.demo import main as demo_main

        return demo_main(args[1:])
    if args and args[0] == "health":
        if args[1:] and args[1] in {"-h", "--help"}:
            print(USAGE)  # noqa: T201 - command-line help goes to stdout
            return 0
        if args[1:]:
            sys.stderr.write(f"animate-bot health: unexpected argument {args[1]!r}\n")
            return 2
        from bot.health import main as health_main

        return health_main()
    if args and args[0] == "worker":
        from bot.runner import main_worker

        return main_worker(args[1:])
    if args and args[0] in {"-h", "--help"}:
        print(USAGE)  # noqa: T201 - same
        return 0
    from bot.runner import main as run_main

    # `animate-bot run --help` reaches the runner's own parser, which lists its options
    return run_main(args[1:] if args and args[0] == "run" else args)


if __name__ == "__main__":
    sys.exit(main())
