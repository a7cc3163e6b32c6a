"""``animate-bot animate IMAGE "PROMPT" --out video.mp4``: one video from the command line.

Same pipeline as the bot, without Discord or the database: catalog validation, ``core.media``
normalisation, the DashScope client, progress on stderr, the MP4 on disk. ``--emulator`` runs
the bundled DashScope emulator in-process with compressed time, so a demo needs no key.

Exit codes: 0 done, 1 the service failed or refused, 2 bad input or configuration (one line on
stderr, never a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import aiohttp
from dotenv import find_dotenv, load_dotenv

from bot.log import RedactSecrets, redacting_handler
from bot.settings import dashscope_from_env
from core.catalog import (
    CURRENCY,
    DEFAULT_EFFECT_MODEL,
    DEFAULT_MODEL,
    EFFECTS,
    AudioMode,
    Effect,
    Model,
    Region,
    models_for_effect,
)
from core.errors import AnimateError, ConfigError, ValidationError
from core.media import ASPECTS, FILLS, normalise_image, prepare_audio
from core.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus
from core.validation import resolve_model, validate_request
from providers import DashScopeClient

log = logging.getLogger(__name__)

PROG = "animate-bot animate"
EMULATOR_KEY = "sk-emulator"
#: wall-clock seconds a demo task should take on the in-process emulator
EMULATOR_DEMO_SECONDS = 2.0
#: first poll delay against the real service (grows to 15 s, the documented cadence)
POLL_SECONDS = 5.0
_DEBUG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + error
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Turn an image and a prompt into a video (DashScope Wan).")
    p.add_argument("image", type=Path, help="the first frame (JPEG, PNG, WEBP, …)")
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
    p.add_argument("--effect", help="effect template, by name or its Chinese/English title")
    p.add_argument("--aspect", default="original", choices=tuple(ASPECTS), help="frame shape")
    p.add_argument("--fill", default="crop", choices=FILLS, help="how to reach --aspect")
    p.add_argument("--region", help="cn-beijing, ap-southeast-1 or us-east-1")
    p.add_argument("--emulator", action="store_true", help="use the local emulator (no key)")
    p.add_argument("--max-mb", type=int, default=1024, help="largest video to download")
    p.add_argument("--debug", action="store_true", help="log everything, show tracebacks")
    return p


@dataclass(frozen=True, slots=True)
class Job:
    request: TaskRequest
    model: Model
    region: Region
    out: Path
    max_bytes: int


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


def _pick_model(args: argparse.Namespace, region: Region) -> tuple[Model, str | None]:
    template = None
    if args.effect is not None:
        effect = find_effect(args.effect)
        if effect is None:
            raise ValidationError(
                f"Unknown effect {args.effect!r}; known: {', '.join(sorted(EFFECTS))}."
            )
        template = effect.name
        if args.model is None:
            able = [m for m in models_for_effect(template) if m.available_in(region)]
            if not able:
                raise ValidationError(f"No model in {region.value} offers the effect {template}.")
            ids = [m.id for m in able]
            chosen = DEFAULT_EFFECT_MODEL if DEFAULT_EFFECT_MODEL in ids else ids[0]
            return resolve_model(chosen, region), template
    return resolve_model(args.model or DEFAULT_MODEL, region), template


def _read(path: Path, what: str) -> bytes:
    if not path.exists():
        raise ValidationError(f"The {what} file {str(path)!r} does not exist.")
    if not path.is_file():
        raise ValidationError(f"{str(path)!r} is not a file.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None


def _resolution(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper()
    return text if text.endswith("P") else text + "P"


def prepare(args: argparse.Namespace, region: Region) -> Job:
    """Everything before the network: files, media normalisation, catalog validation."""
    model, template = _pick_model(args, region)
    image = normalise_image(_read(args.image, "image"), model, aspect=args.aspect, fill=args.fill)
    notes = list(image.notes)
    audio = None
    if args.audio is not None:
        prepared = prepare_audio(_read(args.audio, "audio"), args.audio.name)
        audio = MediaFile(prepared.data, prepared.mime, prepared.filename)
        notes += prepared.notes
    if template and args.prompt:
        notes.append("effects ignore the prompt")
    request = TaskRequest(
        model=model.id,
        image=MediaFile(image.data, image.mime, args.image.name),
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        resolution=_resolution(args.resolution),
        duration=args.duration,
        seed=secrets.randbelow(2**31) if args.seed is None else args.seed,
        prompt_extend=False if args.no_prompt_extend else None,
        watermark=True if args.watermark else None,
        sound=False if args.silent else None,
        audio=audio,
        template=template,
    )
    request = validate_request(request, region)
    for note in notes:
        _err(f"note: {note}")
    if args.out.is_dir():
        raise ValidationError(f"--out {str(args.out)!r} is a directory; give a file name.")
    return Job(request, model, region, args.out, args.max_mb * 1024 * 1024)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - the CLI talks on stderr


def _out(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - results go to stdout


def _sound(job: Job) -> bool:
    return job.model.audio is not AudioMode.SILENT and job.request.sound is not False


def _cost_line(job: Job, info: TaskInfo | None) -> str:
    req = job.request
    assert req.resolution is not None and req.duration is not None  # noqa: S101  # validated
    seconds = info.usage.seconds if info and info.usage else float(req.duration)
    sound = info.usage.sound if info and info.usage and info.usage.sound is not None else None
    unit = job.model.unit_price(
        job.region, req.resolution, sound=_sound(job) if sound is None else sound
    )
    currency = CURRENCY[job.region]
    if unit is None:
        return "unknown (no published price for this setting)"
    return f"{unit * seconds:.4g} {currency} ({seconds:g} s × {unit:g} {currency}/s)"


class _Progress:
    """Status + elapsed seconds on stderr: one updating line on a TTY, a line per change else."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last: TaskStatus | None = None
        self.tty = sys.stderr.isatty()

    def show(self, status: TaskStatus) -> None:
        elapsed = time.monotonic() - self.start
        if self.tty:
            sys.stderr.write(f"\r{status.value:<9} {elapsed:5.0f} s")
            sys.stderr.flush()
        elif status is not self.last:
            _err(f"{status.value} after {elapsed:.0f} s")
        self.last = status

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


async def _poll(client: DashScopeClient, info: TaskInfo, interval: float) -> TaskInfo:
    progress = _Progress()
    wait = interval
    cap = 15.0 if interval >= POLL_SECONDS else interval * 3  # 15 s: DashScope's advice
    try:
        while True:
            progress.show(info.status)
            if info.status.terminal:
                return info
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, cap)
            info = await client.get_task(info.task_id)
    finally:
        progress.done()


async def run(job: Job, *, api_key: str, base_url: str | None, poll_interval: float) -> int:
    _err(f"model {job.model.id} {job.request.resolution} {job.request.duration} s; "
         f"estimated cost {_cost_line(job, None)}")  # fmt: skip
    async with aiohttp.ClientSession() as session:
        client = DashScopeClient(session, api_key=api_key, region=job.region, base_url=base_url)
        created = await client.create_task(job.request)
        _err(f"task {created.task_id}")
        try:
            info = await _poll(client, created, poll_interval)
        except asyncio.CancelledError:
            _err(f"interrupted; task {created.task_id} may still finish on DashScope")
            raise
        if info.status is not TaskStatus.SUCCEEDED or info.video_url is None:
            reason = info.error.message if info.error else f"the task ended {info.status.value}"
            _err(f"error: {reason}")
            return 1
        await asyncio.to_thread(job.out.parent.mkdir, parents=True, exist_ok=True)
        await client.download(info.video_url, job.out, max_bytes=job.max_bytes)
    _out(f"video: {job.out}")
    _out(f"seed: {job.request.seed}")
    _out(f"actual_prompt: {info.actual_prompt or '(not reported)'}")
    _out(f"cost: {_cost_line(job, info)}")
    return 0


async def run_on_emulator(job: Job) -> int:
    from emulator import Emulator, EmulatorConfig  # only the demo path needs it

    scale = EMULATOR_DEMO_SECONDS / max(job.model.typical_seconds, 1.0)
    config = EmulatorConfig(time_scale=scale, queue_delay=0.0, duration_sigma=0.0)
    async with Emulator(config) as emu:
        _err(f"using the in-process DashScope emulator at {emu.base_url}")
        return await run(job, api_key=EMULATOR_KEY, base_url=emu.base_url, poll_interval=0.2)


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
            _err(f"{PROG}: error: {exc}")
            return 2
        except (ValidationError, ConfigError) as exc:
            _err(f"{PROG}: error: {exc.message}")
            return 2
        except AnimateError as exc:
            _err(f"{PROG}: error: {exc.message}")
            return 1
        except KeyboardInterrupt:
            _err(f"{PROG}: interrupted")
            return 130
        except Exception as exc:  # the last line of defence: one line, no traceback
            if debug:
                raise
            _err(f"{PROG}: unexpected {type(exc).__name__}; run with --debug for details")
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
    assert settings.api_key is not None  # noqa: S101  # checked above
    return asyncio.run(
        run(
            job,
            api_key=settings.api_key,
            base_url=settings.base_url_override,
            poll_interval=POLL_SECONDS,
        )
    )
