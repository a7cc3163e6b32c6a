"""``animate-bot demo --once`` as a user runs it: a real subprocess, the real stack behind it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import av
import pytest
from PIL import Image

from bot.__main__ import main as entry
from core.i18n import t

#: one emulated task lasts this long (real seconds): the run stays short
TASK = "1"


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter running the demo command
        [sys.executable, "-m", "bot", "demo", "--task-seconds", TASK, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def picture(path: Path) -> Path:
    Image.new("RGB", (320, 240), (30, 140, 200)).save(path)
    return path


def test_once_writes_a_playable_mp4_and_the_transcript_of_every_state(tmp_path: Path) -> None:
    image = picture(tmp_path / "cat.png")
    out = tmp_path / "out"
    run = demo(
        "--once", str(image), "the cat waves", "--out", str(out), "--duration", "2", cwd=tmp_path
    )

    assert run.returncode == 0, run.stderr
    (video,) = out.glob("*.mp4")
    assert f"wrote {out / 'transcript.md'} and {video}" in run.stdout
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = list(container.decode(stream))
    assert len(frames) >= 2 * 16, "two seconds of real frames"

    transcript = (out / "transcript.md").read_text(encoding="utf-8")
    status, thread = transcript.split("## thread “#1 the cat waves”")
    assert "is thinking…" in status, "the deferred reply is the status message's first state"
    assert t("en-US", "status.delivered") in status, "its last state says Done"
    assert f"[{t('en-US', 'button.cancel')}]" in status, "Cancel was offered while it ran"
    assert "minute" not in status, "the ETA is this service's seconds, not DashScope's minutes"
    assert t("en-US", "result.title") in thread
    assert f"📎 {video.name} (video/mp4, {video.stat().st_size} bytes)" in thread
    buttons = f"[{t('en-US', 'button.regenerate')}] [{t('en-US', 'button.show_again')}]"
    assert buttons in thread
    assert "<t:" not in transcript and "<@" not in transcript, "markup drawn as Discord draws it"
    # the database and the videos went to a temporary directory, not the working directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.png", "out"]


def test_once_speaks_the_users_language(tmp_path: Path) -> None:
    image = picture(tmp_path / "cat.png")
    out = tmp_path / "out"
    run = demo(
        "--once", str(image), "猫在挥手", "--out", str(out), "--locale", "zh-CN", cwd=tmp_path
    )

    assert run.returncode == 0, run.stderr
    transcript = (out / "transcript.md").read_text(encoding="utf-8")
    assert t("zh-CN", "status.delivered") in transcript
    assert t("zh-CN", "result.title") in transcript


def test_a_missing_image_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = demo(
        "--once", str(tmp_path / "nope.png"), "x", "--out", str(tmp_path / "out"), cwd=tmp_path
    )

    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"animate-bot demo: no image at {tmp_path / 'nope.png'} (give the path of a PNG, JPEG "
        "or WebP picture)"
    ]
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_no_picture_gets_the_bots_own_refusal(tmp_path: Path) -> None:
    fake = tmp_path / "scan.png"
    fake.write_bytes(b"%PDF-1.7 not a picture")

    run = demo("--once", str(fake), "x", "--out", str(tmp_path / "out"), cwd=tmp_path)

    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith("animate-bot demo: ") and "picture" in line
    assert "transcript.md" in line, "the refusal is in the transcript too"
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_a_used_data_directory_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "animate.db").write_bytes(b"")

    # through the program's entry point, as `animate-bot demo …` reaches it
    assert entry(["demo", "--data-dir", str(tmp_path)]) == 2

    assert capsys.readouterr().err == (
        f"animate-bot demo: --data-dir {tmp_path} is not an empty directory; give a new or "
        "empty one\n"
    )


def test_a_taken_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        run = demo("--port", str(port), cwd=tmp_path)

    assert run.returncode == 2
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"animate-bot demo: cannot serve on 127.0.0.1:{port} (")
    assert line.endswith("pick another with --port")
