"""``animate-bot animate IMAGE "PROMPT" --out video.mp4``: one video from the command line.

The same engine as the bot, not a second poll loop: the runtime comes from ``bot.builder`` on a
temporary SQLite file, the job goes through the facade (validation, media normalisation, the
recorded row), the worker runs it (admission, sweeps, reconciliation of a lost create, the
download), and a CLI delivery port prints progress on stderr and copies the MP4 to ``--out``.
``--emulator`` runs the bundled DashScope emulator in-process with compressed time, so a demo
needs no key.

Exit codes: 0 done, 1 the service failed or refused, 2 bad input or configuration (one line on
stderr, never a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from dotenv import find_dotenv, load_dotenv

from bot.cli_engine import Job as Job
from bot.cli_engine import run, stderr_line
from bot.log import RedactSecrets, redacting_handler
from bot.settings import DashScopeSettings, dashscope_from_env, price_overrides_from_env
from core.app.service import ValidSpec
from core.domain.catalog import DEFAULT_MODEL, EFFECTS, Effect, Region, effect_model
from core.domain.combinations import check_continuation
from core.domain.errors import AnimateError, ConfigError, ValidationError
from core.domain.jobs import JobSpec
from core.domain.validation import validate_spec
from core.media import ASPECTS, FILLS, check_clip, looks_like_video

log = logging.getLogger(__name__)

PROG = "animate-bot animate"
EMULATOR_KEY = "sk-emulator"
#: wall-clock seconds a demo task should take on the in-process emulator
EMULATOR_DEMO_SECONDS = 2.0
#: the engine's cadence against the real service: looks at most this far apart while a task
#: is far from its expected end, at most 3× (15 s, the documented cadence) in the worst case
POLL_SECONDS = 5.0
#: the same against the in-process emulator, whose time is compressed
EMULATOR_POLL_SECONDS = 0.2
_DEBUG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Turn an image and a prompt into a video (DashScope Wan).")
    p.add_argument(
        "image", type=Path, help="the first frame (JPEG, PNG, WEBP, …), or an MP4/MOV to continue"
    )
    p.add_argument("prompt", nargs="?", default=None, help="what should happen in the video")
    p.add_argument("--out", "-o", type=Path, required=True, help="where to write the MP4")
    p.add_argument("--model", help=f"model id (default {DEFAULT_MODEL})")
    p.add_argument("--resolution", help="480P, 720P or 1080P (default: the model's)")
    p.add_argument("--duration", type=int, help="seconds (default: the model's)")
    p.add_argument("--seed", type=int, help="0..2147483647 (default: random, printed)")
    p.add_argument("--negative-prompt", help="what to avoid")
    p.add_argument("--no-prompt-extend", action="store_true", help="do not rewrite the prompt")
    p.add_argument("--watermark", action="store_true", help="add the 'AI生成' watermark")
    p.add_argument("--silent", action="store_true", help="no sound (wan2.6-i2v-flash)")
    p.add_argument("--audio", type=Path, help="a sound file to lip-sync / align to")
    p.add_argument("--last-frame", type=Path, help="an image the video ends on")
    p.add_argument("--ratio", help="output ratio (Wan 3.0): adaptive, 16:9, 9:16, 1:1, …")
    p.add_argument("--effect", help="effect template, by name or its Chinese/English title")
    p.add_argument("--aspect", default="original", choices=tuple(ASPECTS), help="frame shape")
    p.add_argument("--fill", default="crop", choices=FILLS, help="how to reach --aspect")
    p.add_argument("--region", help=", ".join(r.value for r in Region))
    p.add_argument("--emulator", action="store_true", help="use the local emulator (no key)")
    p.add_argument("--max-mb", type=int, default=1024, help="largest video to download")
    p.add_argument("--debug", action="store_true", help="log everything, show tracebacks")
    return p


def find_effect(name: str) -> Effect | None:
    key = name.strip().lower()
    for effect in EFFECTS.values():
        if key in (effect.name, effect.zh, effect.en.lower()):
            return effect
    return None


def _region(value: str | None, default: Region) -> Region:
    if value is None:
        return default
    try:
        return Region(value.strip())
    except ValueError:
        names = ", ".join(r.value for r in Region)
        raise ConfigError(f"Unknown region {value!r}; use one of: {names}.") from None


def _pick_model(args: argparse.Namespace, region: Region) -> tuple[str, str | None]:
    """(model name, effect template) as asked; validation resolves the name."""
    if args.effect is None:
        return args.model or DEFAULT_MODEL, None
    effect = find_effect(args.effect)
    if effect is None:
        raise ValidationError(
            f"Unknown effect {args.effect!r}; known: {', '.join(sorted(EFFECTS))}.",
            key="request.effect_unknown",
            params={"effect": args.effect},
        )
    if args.model is not None:
        return args.model, effect.name
    model = effect_model(effect.name, region)
    if model is None:
        raise ValidationError(
            f"No model in {region.value} offers the effect {effect.name}.",
            key="request.effect_region",
            params={"effect": effect.name, "region": region.value},
        )
    return model.id, effect.name


def _read(path: Path, what: str) -> bytes:
    if not path.exists():
        raise ValidationError(f"The {what} file {str(path)!r} does not exist.")
    if not path.is_file():
        raise ValidationError(f"{str(path)!r} is not a file.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None


def _resolution(value: str | None) -> str:
    if value is None:
        return ""  # the model's default
    text = value.strip().upper()
    return text if text.endswith("P") else text + "P"


def prepare(args: argparse.Namespace, region: Region) -> Job:
    """Everything before the engine: the files, and the one validation of the request (a video
    where the image goes is a clip to continue, checked here with its total duration)."""
    model, template = _pick_model(args, region)
    first = _read(args.image, "image")
    clip = first if looks_like_video(first) else None
    last = _read(args.last_frame, "end image") if args.last_frame is not None else None
    audio = _read(args.audio, "audio") if args.audio is not None else None
    spec = JobSpec(
        model=model,
        prompt=args.prompt,
        resolution=_resolution(args.resolution),
        duration=args.duration or 0,
        negative_prompt=args.negative_prompt,
        seed=args.seed,
        prompt_extend=not args.no_prompt_extend,
        watermark=args.watermark,
        sound=not args.silent,
        template=template,
        aspect=args.aspect,
        fill=args.fill,
        ratio=args.ratio,
    )
    files = {"audio": audio is not None, "last_frame": last is not None, "clip": clip is not None}
    checked = ValidSpec(
        validate_spec(spec, region, **files),
        audio=files["audio"],
        last_frame=files["last_frame"],
        clip=files["clip"],
    )
    if clip is not None:
        # the clip's length decides which totals are possible: refuse now, before any call
        info = check_clip(clip)
        check_continuation(checked.spec.catalog_model, region, checked.spec.duration, info.seconds)
    if args.out.is_dir():
        raise ValidationError(f"--out {str(args.out)!r} is a directory; give a file name.")
    return Job(
        checked,
        region,
        args.out,
        args.max_mb * 1024 * 1024,
        None if clip is not None else first,
        audio,
        args.audio.name if args.audio is not None else None,
        last_frame=last,
        clip=clip,
        clip_seconds=info.seconds if clip is not None else None,
        price_overrides=price_overrides_from_env(),
    )


async def run_on_emulator(job: Job) -> int:
    from emulator import Emulator, EmulatorConfig  # only the demo path needs it

    scale = EMULATOR_DEMO_SECONDS / max(job.model.typical_seconds, 1.0)
    config = EmulatorConfig(
        api_key=EMULATOR_KEY, time_scale=scale, queue_delay=0.0, duration_sigma=0.0
    )
    async with Emulator(config) as emu:
        stderr_line(f"using the in-process DashScope emulator at {emu.base_url}")
        dashscope = DashScopeSettings(api_key=EMULATOR_KEY, base_url_override=emu.base_url)
        return await run(job, dashscope=dashscope, poll_interval=EMULATOR_POLL_SECONDS)


@contextlib.contextmanager
def _logging(debug: bool) -> Iterator[RedactSecrets]:
    """Quiet by default (the CLI prints its own lines); everything on stderr with --debug.

    Yields the redaction filter so the API key can be added once it is read; secret-shaped
    values (keys, tokens in URLs) are redacted from the start.
    """
    root = logging.getLogger()
    handler: logging.Handler
    if debug:
        handler, redactor = redacting_handler(sys.stderr, fmt=_DEBUG_FORMAT)
    else:
        handler, redactor = logging.NullHandler(), RedactSecrets()
    old_level = root.level
    root.addHandler(handler)
    if debug:
        root.setLevel(logging.DEBUG)
    try:
        yield redactor
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def main(argv: list[str]) -> int:
    debug = "--debug" in argv
    with _logging(debug) as redactor:
        try:
            return _main(argv, redactor)
        except _UsageError as exc:
            stderr_line(f"{PROG}: error: {exc}")
            return 2
        except (ValidationError, ConfigError) as exc:
            stderr_line(f"{PROG}: error: {exc.message}")
            return 2
        except AnimateError as exc:
            stderr_line(f"{PROG}: error: {exc.message}")
            return 1
        except KeyboardInterrupt:
            stderr_line(f"{PROG}: interrupted")
            return 130
        except Exception as exc:  # the last line of defence: one line, no traceback
            if debug:
                raise
            stderr_line(f"{PROG}: unexpected {type(exc).__name__}; run with --debug for details")
            return 1


def _main(argv: list[str], redactor: RedactSecrets) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help / --version printed and asked to exit
        return exc.code if isinstance(exc.code, int) else 0
    load_dotenv(find_dotenv(usecwd=True))
    settings = dashscope_from_env()
    redactor.add(settings.api_key)
    region = _region(args.region, settings.region)
    if not args.emulator and settings.api_key is None:
        raise ConfigError(
            "DASHSCOPE_API_KEY is not set (environment or .env); "
            "use --emulator to try it against the local emulator."
        )
    job = prepare(args, region)
    if args.emulator:
        return asyncio.run(run_on_emulator(job))
    return asyncio.run(run(job, dashscope=settings, poll_interval=POLL_SECONDS))
