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
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from dotenv import find_dotenv, load_dotenv

from bot.builder import build
from bot.log import RedactSecrets, redacting_handler
from bot.settings import DashScopeSettings, Settings, dashscope_from_env
from core.app.service import ValidSpec
from core.domain.catalog import (
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
from core.domain.errors import AnimateError, ConfigError, ValidationError
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.validation import validate_spec
from core.engine.config import EngineConfig
from core.media import ASPECTS, FILLS
from core.ports import DeliveryError

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
#: the ``ChatRef.platform`` of CLI jobs (the CLI registers its port under it)
PLATFORM = "cli"
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
    """A validated request, its input bytes and where the video goes."""

    spec: ValidSpec
    region: Region
    out: Path
    max_bytes: int
    image: bytes
    audio: bytes | None = None
    audio_name: str | None = None

    @property
    def model(self) -> Model:
        return self.spec.spec.catalog_model


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
    able = [m.id for m in models_for_effect(effect.name) if m.available_in(region)]
    if not able:
        raise ValidationError(
            f"No model in {region.value} offers the effect {effect.name}.",
            key="request.effect_region",
            params={"effect": effect.name, "region": region.value},
        )
    return (DEFAULT_EFFECT_MODEL if DEFAULT_EFFECT_MODEL in able else able[0]), effect.name


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
    """Everything before the engine: the files, and the one validation of the request."""
    model, template = _pick_model(args, region)
    image = _read(args.image, "image")
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
    )
    checked = ValidSpec(validate_spec(spec, region, audio=audio is not None), audio is not None)
    if args.out.is_dir():
        raise ValidationError(f"--out {str(args.out)!r} is a directory; give a file name.")
    return Job(
        checked,
        region,
        args.out,
        args.max_mb * 1024 * 1024,
        image,
        audio,
        args.audio.name if args.audio is not None else None,
    )


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # noqa: T201 - the CLI talks on stderr


def _out(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - results go to stdout


def _cost_line(job: Job, seconds: float | None) -> str:
    spec = job.spec.spec
    model = job.model
    billed = float(spec.duration) if seconds is None else seconds
    sound = model.audio is not AudioMode.SILENT and spec.sound
    unit = model.unit_price(job.region, spec.resolution, sound=sound)
    currency = CURRENCY[job.region]
    if unit is None:
        return "unknown (no published price for this setting)"
    return f"{unit * billed:.4g} {currency} ({billed:g} s × {unit:g} {currency}/s)"


class CliPort:
    """The CLI's ``DeliveryPort``: progress lines on stderr (one updating line on a TTY), the
    result copied to ``--out``. ``outcome`` resolves with the job's view once it is posted."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.task: str | None = None
        self.outcome: asyncio.Future[JobView] = asyncio.get_running_loop().create_future()

    def _show(self, label: str, *, final: bool = False) -> None:
        elapsed = time.monotonic() - self.start
        if self.tty:
            sys.stderr.write(f"\r{label:<10} {elapsed:5.0f} s" + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            _err(f"{label} after {elapsed:.0f} s")

    async def post_progress(self, job: JobView) -> None:
        if job.task_id is not None and self.task is None:
            self.task = job.task_id
            _err(f"task {job.task_id}")
        self._show(job.status.value.upper())

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 62  # a file copy has no size limit

    async def post_result(self, job: JobView) -> str:
        if job.task_id is not None and self.task is None:
            self.task = job.task_id
            _err(f"task {job.task_id}")
        self._show(JobStatus.SUCCEEDED.value.upper(), final=True)
        if job.video_path is None:
            raise DeliveryError("the video is not on disk", permanent=True)
        await asyncio.to_thread(_copy, Path(job.video_path), self.out)
        self._settle(job)
        return str(self.out)

    async def post_failure(self, job: JobView) -> str:
        self._show(job.status.value.upper(), final=True)
        self._settle(job)
        return "stderr"

    async def find_posted(self, job: JobView) -> str | None:
        return None  # one process, one run: nothing was posted before it started

    def _settle(self, job: JobView) -> None:
        if not self.outcome.done():
            self.outcome.set_result(job)


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, part)
    part.replace(dest)


def engine_config(poll: float) -> EngineConfig:
    """The engine's cadence for one job watched by a person: ``poll`` seconds between looks
    at most, and the documented 15 s ceiling at the default 5 s."""
    return EngineConfig(
        poll_floor=poll / 5,
        poll_ceiling=poll * 3,
        reconcile_delay=poll,
        list_settle=poll * 2,
        progress_interval=0.0,
        media_retention_days=36_500.0,  # the temporary directory goes away anyway
    )


async def run(job: Job, *, dashscope: DashScopeSettings, poll_interval: float) -> int:
    """Run ``job`` on the engine over a temporary SQLite file; 0 done, 1 failed."""
    with tempfile.TemporaryDirectory(prefix="animate-cli-") as tmp:
        settings = Settings(
            dashscope=replace(dashscope, region=job.region),
            database_path=Path(tmp) / "animate.db",
            media_dir=Path(tmp) / "media",
            limit_user_active_jobs=0,
        )
        config = replace(engine_config(poll_interval), max_video_bytes=job.max_bytes)
        async with build(settings, config=config, interval=poll_interval) as rt:
            port = CliPort(job.out)
            rt.router.register(PLATFORM, port)
            view = await rt.service.submit(
                spec=job.spec,
                image=job.image,
                chat=ChatRef(PLATFORM, user="local", channel="stderr"),
                audio=job.audio,
                audio_filename=job.audio_name,
            )
            spec = view.spec
            _err(f"model {spec.model} {spec.resolution} {spec.duration} s; "
                 f"estimated cost {_cost_line(job, None)}")  # fmt: skip
            for note in view.notes:
                _err(f"note: {note}")
            if spec.template and spec.prompt:
                _err("note: effects ignore the prompt")
            worker = asyncio.create_task(rt.worker.run(), name="worker")
            try:
                done = await port.outcome
            except asyncio.CancelledError:
                _err(f"interrupted; task {port.task or '(not created)'} may still finish")
                raise
            finally:
                rt.worker.stop()
                await worker
    if done.status is not JobStatus.DOWNLOADED:
        _err(f"error: {done.error_message or 'the job ended ' + done.status.value}")
        return 1
    _out(f"video: {job.out}")
    _out(f"seed: {done.seed_used}")
    _out(f"actual_prompt: {done.actual_prompt or '(not reported)'}")
    _out(f"cost: {_cost_line(job, done.usage_seconds)}")
    return 0


async def run_on_emulator(job: Job) -> int:
    from emulator import Emulator, EmulatorConfig  # only the demo path needs it

    scale = EMULATOR_DEMO_SECONDS / max(job.model.typical_seconds, 1.0)
    config = EmulatorConfig(
        api_key=EMULATOR_KEY, time_scale=scale, queue_delay=0.0, duration_sigma=0.0
    )
    async with Emulator(config) as emu:
        _err(f"using the in-process DashScope emulator at {emu.base_url}")
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
    return asyncio.run(run(job, dashscope=settings, poll_interval=POLL_SECONDS))
