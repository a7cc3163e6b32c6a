"""``animate-bot animate``: real runs on the emulator, and one clear line for every bad input."""

from __future__ import annotations

import io
import logging
import math
import struct
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from bot import cli
from core.domain.catalog import Region, output_size
from emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import clip_bytes, frame_colors, near

KEY = "sk-cli-test-key-0123456789"


def _png(path: Path, size: tuple[int, int] = (640, 480)) -> Path:
    Image.new("RGB", size, (30, 120, 200)).save(path, "PNG")
    return path


def _wav(path: Path, seconds: float = 3.5, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 330 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key, region or base URL from the machine; no .env above the test's directory."""
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_REGION", "DASHSCOPE_BASE_URL",
                 "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_WORKSPACE_ID",
                 "PRICE_OVERRIDES"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "EMULATOR_DEMO_SECONDS", 0.3)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return _png(tmp_path / "in.png")


@pytest.fixture
def emulator_url() -> Iterator[tuple[Emulator, str]]:
    config = EmulatorConfig(api_key=KEY, time_scale=0.002, queue_delay=0.0, duration_sigma=0.0)
    with Emulator(config).run_in_thread() as emu:
        yield emu, emu.base_url


def _probe(path: Path) -> tuple[str, int, int, float, list[str]]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return (
            video.codec_context.name,
            video.width,
            video.height,
            float(container.duration or 0) / 1_000_000,
            [a.codec_context.name for a in container.streams.audio],
        )


def test_emulator_run_writes_a_playable_mp4_with_the_audio(
    image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "videos" / "cat.mp4"
    code = cli.main(
        [str(image), "a cat waves", "--out", str(out), "--emulator", "--resolution", "720p",
         "--duration", "2", "--seed", "77", "--audio", str(_wav(tmp_path / "v.wav"))]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    codec, width, height, seconds, audio = _probe(out)
    assert codec == "h264"
    assert (width, height) == output_size(640, 480, "720P")
    assert seconds == pytest.approx(2.0, abs=0.1)
    assert audio == ["aac"]
    lines = captured.out.splitlines()
    assert lines[0] == f"video: {out}"
    assert "seed: 77" in lines
    assert any(line.startswith("actual_prompt: ") for line in lines)
    assert "cost: 0.6 CNY (2 s × 0.3 CNY/s)" in lines
    assert "SUCCEEDED after" in captured.err
    assert "Traceback" not in captured.err


def test_effect_run_in_singapore_is_silent_and_priced_in_usd(
    image: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fx.mp4"
    code = cli.main([str(image), "--effect", "Rose", "--model", "wan2.1-i2v-turbo", "--out",
                     str(out), "--emulator", "--region", "ap-southeast-1", "--resolution", "480P",
                     "--duration", "3"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "model wanx2.1-i2v-turbo 480P 3 s" in captured.err
    assert "cost: 0.108 USD (3 s × 0.036 USD/s)" in captured.out.splitlines()
    codec, *_, seconds, audio = _probe(out)
    assert (codec, audio) == ("h264", [])
    assert seconds == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize(
    ("argv", "template", "model"),
    [
        (["--effect", "魔法悬浮"], "flying", "wanx2.1-i2v-plus"),
        (["--effect", "Magic levitation"], "flying", "wanx2.1-i2v-plus"),
        (["--effect", "hug", "--model", "wanx2.1-i2v-turbo"], "hug", "wanx2.1-i2v-turbo"),
    ],
)
def test_effect_names_resolve_to_templates(
    image: Path, argv: list[str], template: str, model: str
) -> None:
    args = cli.build_parser().parse_args([str(image), "--out", "x.mp4", *argv])
    job = cli.prepare(args, Region.BEIJING)
    assert (job.spec.spec.template, job.model.id) == (template, model)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["missing.png", "p"], "does not exist"),
        (["notes.txt", "p"], "isn't a picture"),
        (["in.png", "p", "--model", "wan9"], "Unknown model 'wan9'"),
        (["in.png", "p", "--model", "wan2.2-i2v-plus", "--duration", "10"], "exactly 5 s"),
        (["in.png", "p", "--effect", "sparkles"], "Unknown effect 'sparkles'"),
        (["in.png", "p", "--effect", "melt", "--model", "wanx2.1-i2v-turbo"], "melt"),
        (["in.png", "p", "--region", "mars-1"], "Unknown region 'mars-1'"),
        (["in.png", "p", "--aspect", "2:1"], "argument --aspect"),
        (["in.png", "p", "--seed", "abc"], "argument --seed"),
        (["in.png", "p", "--seed", "-4"], "0 to 2147483647"),
        (["in.png", "p", "--model", "wan2.2-i2v-flash", "--audio", "v.wav"], "audio"),
        (["in.png", "p", "--audio", "notes.txt"], "sound"),
        (["in.png", "p", "--resolution", "4K"], "not 4KP"),
        (["in.png", "p", "--model", "wan2.6-i2v-flash", "--region", "us-east-1"],
         "not available in region us-east-1"),
        # issue 14: the media combinations of §5.3-§5.5, refused before anything
        (["clip.mp4", "p", "--model", "wan2.7-i2v", "--duration", "8", "--audio", "v.wav"],
         "cannot take clip + audio together"),
        (["in.png", "p", "--last-frame", "in.png"], "cannot end on a chosen image"),
        (["clip.mp4", "p"], "cannot continue a video; models that can in cn-beijing: wan2.7-i2v"),
        (["clip.mp4", "p", "--model", "wan2.7-i2v", "--last-frame", "in.png", "--duration", "3"],
         "the clip lasts 3.0 s"),
        (["short.mp4", "p", "--model", "wan2.7-i2v", "--duration", "8"], "only 1.0 s long"),
        (["clip.mp4", "p", "--model", "wan2.7-i2v", "--duration", "8", "--region",
          "ap-southeast-1"], "Continuing a video only works in the China (Beijing) region"),
        (["in.png", "p", "--model", "wan2.2-kf2v-flash"], "attach an end image too"),
        (["in.png", "p", "--model", "wan2.7-i2v", "--region", "eu-central-1"],
         "not available in region eu-central-1"),
        (["in.png", "p", "--model", "wan2.6-i2v", "--region", "eu-central-1", "--duration", "7"],
         "In eu-central-1, wan2.6-i2v makes videos of 5, 10 or 15 s, not 7 s"),
        (["in.png", "p", "--model", "wan3.0-video", "--ratio", "2:1"], "not '2:1'"),
        (["in.png", "p", "--out"], "argument --out"),
        (["in.png"], "required: --out"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    image: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    words: str,
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:9/api/v1")  # never reached
    (tmp_path / "notes.txt").write_text("not an image at all")
    _wav(tmp_path / "v.wav")
    (tmp_path / "clip.mp4").write_bytes(clip_bytes(3.0))
    (tmp_path / "short.mp4").write_bytes(clip_bytes(1.0))
    full = [*argv, "--out", "o.mp4"] if "--out" not in argv and len(argv) > 1 else argv
    code = cli.main(full)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("animate-bot animate: error: ")
    assert words in lines[0]
    assert not (tmp_path / "o.mp4").exists()


RED, GREEN, BLUE = (220, 30, 30), (0, 200, 0), (30, 30, 220)


def test_a_last_frame_run_ends_on_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: ``animate first.png "…" --model wan2.7-i2v --last-frame last.png --emulator``."""
    first = _png(tmp_path / "first.png")
    Image.new("RGB", (640, 480), RED).save(first)
    last = tmp_path / "last.png"
    Image.new("RGB", (640, 480), BLUE).save(last)
    out = tmp_path / "ends.mp4"
    code = cli.main([str(first), "red to blue", "--model", "wan2.7-i2v", "--last-frame",
                     str(last), "--emulator", "--resolution", "720P",
                     "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    codec, *_, seconds, _ = _probe(out)
    assert codec == "h264" and seconds == pytest.approx(5.0, abs=0.1)  # the model's default
    colors = frame_colors(out.read_bytes())
    assert near(colors[0], RED) and near(colors[-1], BLUE)
    assert "cost: 3 CNY (5 s × 0.6 CNY/s)" in captured.out.splitlines()


def test_a_video_where_the_image_goes_is_continued_to_the_total_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14: ``animate clip.mp4 "…" --model wan2.7-i2v --duration 8 --emulator``."""
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(clip_bytes(3.0, GREEN, 640, 480))
    out = tmp_path / "longer.mp4"
    code = cli.main([str(clip), "keep going", "--model", "wan2.7-i2v", "--duration", "8",
                     "--emulator", "--resolution", "720P", "--out", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    codec, width, height, seconds, _ = _probe(out)
    assert codec == "h264" and seconds == pytest.approx(8.0, abs=0.1)
    assert (width, height) == output_size(640, 480, "720P")  # the clip's shape
    assert near(frame_colors(out.read_bytes())[0], GREEN)  # it starts with the clip
    assert "bills the whole 8 s video, the 3.0 s clip it continues included" in captured.err
    assert "cost: 4.8 CNY (8 s × 0.6 CNY/s)" in captured.out.splitlines()


def test_an_unpublished_price_is_unknown_unless_the_operator_sets_one(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(image), "a cat", "--model", "wan3.0-video-prime", "--duration", "2",
            "--resolution", "480P", "--emulator", "--out", str(tmp_path / "w.mp4")]  # fmt: skip
    assert cli.main(argv) == 0
    assert "cost: unknown (no published price" in capsys.readouterr().out
    prices = tmp_path / "prices.toml"
    prices.write_text('["wan3.0-video-prime"]\n480P = 0.25\n')
    monkeypatch.setenv("PRICE_OVERRIDES", str(prices))
    assert cli.main(argv) == 0
    assert "cost: 0.5 CNY (2 s × 0.25 CNY/s)" in capsys.readouterr().out.splitlines()
    prices.write_text('["wan3.0-video-prime"]\n480P = "free"\n')
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PRICE_OVERRIDES=" in err and "must be a number" in err


def test_no_key_names_the_emulator(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main([str(image), "a cat", "--out", "o.mp4"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "DASHSCOPE_API_KEY" in err and "--emulator" in err


def test_key_from_dotenv_is_used_and_never_printed(
    image: Path,
    tmp_path: Path,
    emulator_url: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu, url = emulator_url
    monkeypatch.setattr(cli, "POLL_SECONDS", 0.05)
    for name in ("DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL"):
        # set-then-delete records the variable, so whatever load_dotenv puts there is undone
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f"DASHSCOPE_API_KEY={KEY}\nDASHSCOPE_BASE_URL={url}\n")
    code = cli.main([str(image), "a cat", "--out", "o.mp4", "--model", "wanx2.1-i2v-turbo",
                     "--duration", "3", "--resolution", "480P"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert _probe(tmp_path / "o.mp4")[0] == "h264"
    assert len(emu.tasks) == 1
    assert KEY not in captured.out + captured.err


@pytest.mark.parametrize(
    ("fault", "key", "words"),
    [
        (None, "sk-from-the-other-region", "Keys are per region"),
        ("moderation_create", KEY, "content check"),
        ("moderation_task", KEY, "generated video was blocked"),
    ],
)
def test_service_refusals_are_one_line_and_exit_1(
    image: Path,
    emulator_url: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: str | None,
    key: str,
    words: str,
) -> None:
    emu, url = emulator_url
    if fault is not None:
        emu.inject(fault)  # type: ignore[arg-type]  # parametrized FaultKind literal
    monkeypatch.setattr(cli, "POLL_SECONDS", 0.05)
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", url)
    code = cli.main([str(image), "a cat", "--out", "o.mp4"])
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert words in errors[0]
    assert "Traceback" not in err
    assert key not in err


def test_a_create_whose_answer_was_lost_is_reconciled_not_sent_again(
    image: Path,
    tmp_path: Path,
    emulator_url: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI runs the bot's engine: a create whose answer is lost is matched to its task
    through the task list (it used to end the CLI with "did not answer"), never resent."""
    emu, url = emulator_url
    emu.inject("reset_after_create")
    monkeypatch.setattr(cli, "POLL_SECONDS", 0.05)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", url)
    code = cli.main([str(image), "a cat", "--out", "o.mp4", "--model", "wanx2.1-i2v-turbo",
                     "--duration", "3", "--resolution", "480P"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert len(emu.tasks) == 1  # one task, never a second create
    assert _probe(tmp_path / "o.mp4")[0] == "h264"
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (RuntimeError("boom"), 1, "unexpected RuntimeError; run with --debug for details"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_unexpected_errors_and_ctrl_c_are_one_line(
    image: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: BaseException,
    code: int,
    words: str,
) -> None:
    def explode(*_args: object) -> cli.Job:
        raise raised

    monkeypatch.setattr(cli, "prepare", explode)
    assert cli.main([str(image), "p", "--out", "o.mp4", "--emulator"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_debug_shows_the_traceback(image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: object) -> cli.Job:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "prepare", explode)
    with pytest.raises(RuntimeError, match="boom"):
        cli.main([str(image), "p", "--out", "o.mp4", "--emulator", "--debug"])


def test_debug_handler_redacts_tokens_and_keys(capsys: pytest.CaptureFixture[str]) -> None:
    # --debug used to install a bare StreamHandler: whatever a library logged went out verbatim
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpGYWtl"
    with cli._logging(debug=True):
        logging.getLogger("discord.webhook.async_").debug(
            "POST %s has returned 429", f"https://discord.com/api/v10/webhooks/1/{token}"
        )
        logging.getLogger("providers").debug("retrying with %s", "sk-0123456789abcdef01234567")
    err = capsys.readouterr().err
    assert "/webhooks/1/[redacted]" in err and "retrying with [redacted]" in err
    assert token not in err and "sk-0123456789abcdef" not in err


def test_debug_run_logs_without_the_key(
    image: Path,
    emulator_url: tuple[Emulator, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = emulator_url
    monkeypatch.setattr(cli, "POLL_SECONDS", 0.05)
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    monkeypatch.setenv("DASHSCOPE_BASE_URL", url)
    code = cli.main([str(image), "a cat", "--out", "o.mp4", "--model", "wanx2.1-i2v-turbo",
                     "--duration", "3", "--resolution", "480P", "--debug"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert " DEBUG " in captured.err, "--debug logs"
    assert KEY not in captured.out + captured.err


def test_dispatcher_routes_animate_to_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    assert main(["animate", "--help"]) == 0
    assert "--emulator" in capsys.readouterr().out


def test_image_fixture_is_a_png(image: Path) -> None:
    assert Image.open(io.BytesIO(image.read_bytes())).format == "PNG"
