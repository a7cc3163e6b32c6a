"""``animate-bot demo``: the playground. No tokens, no accounts, nothing else installed.

``animate-bot demo`` serves a page that looks and behaves like a Discord channel, with the real
bot answering through its normal path (``bot.demo.stack``); ``--once IMAGE PROMPT --out DIR``
runs one scripted request without a browser (``bot.demo.once``).

This is the one place where the application meets the shipped stand-ins (``playground/``) and
the emulator: the import contracts in ``pyproject.toml`` allow it here only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bot.demo.once import Outcome, run_once
from bot.demo.stack import TASK_SECONDS, demo_stack
from bot.log import configure_logging
from playground.channel import LOCALES, ChannelPage

EXIT_FAILED, EXIT_USAGE = 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="animate-bot demo",
        description=(
            "A local playground: the real bot against an emulated DashScope and a local Discord "
            "stand-in, in your browser. Needs no tokens and no accounts."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to serve the page on")
    p.add_argument("--port", type=int, default=8080, help="port of the page (0: any free port)")
    p.add_argument(
        "--data-dir",
        type=Path,
        help="keep the playground's database and videos in this new or empty directory "
        "(default: a temporary one, deleted at the end)",
    )
    p.add_argument(
        "--task-seconds",
        type=float,
        default=TASK_SECONDS,
        help="how long an emulated video takes to make, in seconds",
    )
    p.add_argument(
        "--once",
        nargs=2,
        metavar=("IMAGE", "PROMPT"),
        help="run one /animate without a browser and write its transcript and MP4 to --out",
    )
    p.add_argument("--out", type=Path, help="where --once writes transcript.md and the MP4")
    p.add_argument("--locale", choices=LOCALES, default="en-US", help="the user's language")
    p.add_argument("--model", help="--once: the model (default: the bot's default)")
    p.add_argument("--duration", type=int, help="--once: seconds of video")
    p.add_argument("--resolution", choices=("480P", "720P", "1080P"), help="--once: resolution")
    p.add_argument("--log-level", default="WARNING", help="the bot's log level (default WARNING)")
    return p


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"animate-bot demo: {message}\n")
    return code


@contextlib.contextmanager
def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="animate-demo-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 0.5 <= args.task_seconds <= 600:
        return _fail("--task-seconds must be from 0.5 to 600")
    given = args.data_dir
    if given is not None and given.exists() and (not given.is_dir() or any(given.iterdir())):
        # the stand-in Discord starts empty every time: an old database's jobs would point at
        # channels that no longer exist
        return _fail(f"--data-dir {given} is not an empty directory; give a new or empty one")
    configure_logging(args.log_level.upper())
    # discord.py warns at every start that voice needs PyNaCl: the bot uses no voice
    logging.getLogger("discord.client").setLevel(logging.ERROR)
    if args.once is not None:
        return _once(args)
    if args.out is not None:
        return _fail("--out goes with --once IMAGE PROMPT")
    if not 0 <= args.port <= 65535:
        return _fail(f"--port {args.port} is not a port number from 0 to 65535")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except CannotServe as exc:
        return _fail(str(exc))
    return 0


class CannotServe(Exception):
    """The page's address cannot be bound (the port is taken, or the host is not this one)."""


def _once(args: argparse.Namespace) -> int:
    image, prompt = Path(args.once[0]), args.once[1]
    if args.out is None:
        return _fail("--once needs --out DIR (where the transcript and the MP4 go)")
    if not image.is_file():
        return _fail(f"no image at {image} (give the path of a PNG, JPEG or WebP picture)")
    if not prompt.strip():
        return _fail("the prompt is empty (say what should happen in the video)")
    if args.out.exists() and not args.out.is_dir():
        return _fail(f"--out {args.out} is a file, not a directory")
    options = {
        k: v
        for k, v in (
            ("model", args.model),
            ("duration", args.duration),
            ("resolution", args.resolution),
        )
        if v is not None
    }
    started = time.monotonic()
    try:
        data = image.read_bytes()
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"cannot read {image} or create {args.out}: {exc.strerror or exc}")
    result = asyncio.run(_run_once(args, data, image.name, prompt, options))
    transcript = args.out / "transcript.md"
    transcript.write_text(result.transcript, encoding="utf-8")
    if result.problem is not None:
        code = EXIT_USAGE if result.problem.refused else EXIT_FAILED
        message = " ".join(result.problem.message.split())
        return _fail(f"{message} (transcript: {transcript})", code)
    assert result.video is not None  # noqa: S101 - an outcome without a problem has its video
    video = args.out / Path(result.video.filename).name
    video.write_bytes(result.video.data)
    seconds = time.monotonic() - started
    print(f"wrote {transcript} and {video} in {seconds:.1f} s")  # noqa: T201 - the command's result
    return 0


async def _run_once(
    args: argparse.Namespace, data: bytes, filename: str, prompt: str, options: dict[str, object]
) -> Outcome:
    with _data_dir(args.data_dir) as where:
        async with demo_stack(where, task_seconds=args.task_seconds) as demo:
            return await run_once(demo, data, filename, prompt, locale=args.locale, options=options)


async def _serve(args: argparse.Namespace) -> None:
    with _data_dir(args.data_dir) as data:
        async with demo_stack(data, task_seconds=args.task_seconds) as demo:
            page = ChannelPage(demo.fake, demo.channel, demo.user)
            async with contextlib.AsyncExitStack() as serving:
                try:
                    await serving.enter_async_context(page.serve(args.host, args.port))
                except OSError as exc:
                    raise CannotServe(
                        f"cannot serve on {args.host}:{args.port} ({exc.strerror or exc}); "
                        "pick another with --port"
                    ) from None
                host = f"[{args.host}]" if ":" in args.host else args.host
                print(  # noqa: T201 - where to point the browser
                    f"animate-bot playground: http://{host}:{page.port}/ (a local playground "
                    "with an emulated video service; Ctrl+C to stop)",
                    flush=True,
                )
                await _until_stopped()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
