"""prepare_audio: wav/mp3 kept, other formats converted, limits enforced, bad files refused."""

from __future__ import annotations

import io
import random
from pathlib import Path

import av
import pytest

from core.domain.catalog import AUDIO_LIMITS, AudioLimits
from core.domain.errors import Input, ValidationError
from core.media import PreparedAudio, prepare_audio
from tests.core.media import corpus


def probe(data: bytes) -> tuple[str, str, float]:
    """(container, codec, seconds decoded) judged independently by decoding every frame."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(stream))
        return container.format.name, stream.codec_context.name, samples / stream.sample_rate


def assert_ready(result: PreparedAudio, limits: AudioLimits = AUDIO_LIMITS) -> float:
    fmt, codec, seconds = probe(result.data)
    assert fmt in ("wav", "mp3")
    assert result.mime == {"wav": "audio/wav", "mp3": "audio/mpeg"}[fmt]
    assert result.filename.endswith("." + fmt)
    assert codec in ("pcm_s16le", "pcm_s24le", "pcm_u8", "mp3", "mp3float")
    assert limits.min_seconds <= seconds <= limits.max_seconds + 0.1
    assert abs(seconds - result.seconds) < 0.1
    assert len(result.data) <= limits.max_bytes
    return seconds


def test_wav_within_limits_passes_through_unchanged() -> None:
    data = corpus.encode_audio("wav", "pcm_s16le", 5)
    result = prepare_audio(data, "take 1.wav")
    assert result.data == data  # byte for byte
    assert (result.mime, result.filename, result.notes) == ("audio/wav", "take_1.wav", ())
    assert assert_ready(result) == pytest.approx(5.0, abs=0.01)


def test_mp3_within_limits_passes_through_unchanged() -> None:
    data = corpus.encode_audio("mp3", "libmp3lame", 10)
    result = prepare_audio(data, "song.mp3")
    assert result.data == data
    assert result.mime == "audio/mpeg"
    assert assert_ready(result) == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "channels", "label"),
    [
        ("ipod", "aac", 44100, 2, "M4A"),
        ("adts", "aac", 44100, 2, "AAC"),
        ("ogg", "libopus", 48000, 2, "OPUS"),
        ("ogg", "libopus", 48000, 1, "OPUS"),
        ("flac", "flac", 22050, 1, "FLAC"),
        ("webm", "libopus", 48000, 2, "WEBM"),
        ("aiff", "pcm_s16be", 44100, 2, "AIFF"),
    ],
)
def test_other_formats_become_mp3(
    fmt: str, codec: str, rate: int, channels: int, label: str
) -> None:
    data = corpus.encode_audio(fmt, codec, 6, rate=rate, channels=channels)
    result = prepare_audio(data, f"voice.{fmt}")
    assert result.mime == "audio/mpeg" and result.filename == "voice.mp3"
    assert result.notes[0] == f"converted from {label} to MP3"
    assert assert_ready(result) == pytest.approx(6.0, abs=0.1)


def test_sound_track_of_a_video_is_used(tmp_path: Path) -> None:
    clip = corpus.make_video(tmp_path / "clip.mp4", 64, 64, 4, fps=10)
    result = prepare_audio(clip.read_bytes(), "clip.mp4")
    assert "converted from MP4 to MP3" in result.notes
    assert assert_ready(result) == pytest.approx(4.0, abs=0.1)


def test_too_long_is_trimmed_with_a_note() -> None:
    data = corpus.encode_audio("wav", "pcm_s16le", 34, rate=22050, channels=1)
    result = prepare_audio(data, "long.wav")
    assert result.mime == "audio/mpeg"
    assert assert_ready(result) == pytest.approx(30.0, abs=0.1)
    assert "used the first 30 s of 34 s of the sound" in result.notes


@pytest.mark.parametrize("seconds", [0.5, 2.9])
def test_too_short_is_refused(seconds: float) -> None:
    data = corpus.encode_audio("mp3", "libmp3lame", seconds)
    with pytest.raises(ValidationError) as err:
        prepare_audio(data, "short.mp3")
    assert err.value.key == "audio.too_short"
    assert err.value.subject is Input.AUDIO
    assert "at least 3 s" in err.value.message


def test_silent_audio_is_accepted_with_a_note() -> None:
    data = corpus.encode_audio("wav", "pcm_s16le", 4, amp=0)
    result = prepare_audio(data, "silence.wav")
    assert_ready(result)
    assert "the sound file seems to be silent" in result.notes


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"", "audio.empty"),
        (bytes(random.Random(1).randrange(256) for _ in range(5000)), "audio.unreadable"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100, "audio.unreadable"),
        (b"%PDF-1.7\n" * 50, "audio.unreadable"),
    ],
    ids=["empty", "random", "id3_only", "pdf"],
)
def test_unreadable_files_are_refused(data: bytes, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        prepare_audio(data, "x.mp3")
    assert err.value.key == key
    assert "MP3" in err.value.message or "empty" in err.value.message


def test_picture_is_not_audio() -> None:
    data = corpus.save(corpus.photo(64, 64), "PNG")
    with pytest.raises(ValidationError) as err:
        prepare_audio(data, "cat.png")
    assert err.value.key in ("audio.unreadable", "audio.no_audio_stream")


def test_truncated_file_keeps_what_decodes_or_refuses() -> None:
    whole = corpus.encode_audio("mp3", "libmp3lame", 10)
    cut_long = prepare_audio(whole[: len(whole) * 6 // 10], "cut.mp3")
    assert assert_ready(cut_long) == pytest.approx(6.0, abs=0.3)
    with pytest.raises(ValidationError) as err:
        prepare_audio(whole[: len(whole) // 8], "cut.mp3")
    assert err.value.key == "audio.too_short"


def test_corrupt_middle_never_crashes() -> None:
    whole = bytearray(corpus.encode_audio("ipod", "aac", 6))
    rng = random.Random(4)
    for i in range(len(whole) // 3, len(whole) // 3 + 2000):
        whole[i] = rng.randrange(256)
    try:
        result = prepare_audio(bytes(whole), "broken.m4a")
    except ValidationError as err:
        assert err.subject is Input.AUDIO
    else:
        assert_ready(result)


def test_filenames_are_made_safe() -> None:
    data = corpus.encode_audio("wav", "pcm_s16le", 3.5)
    assert prepare_audio(data, "../../etc/pass wd.wav").filename == "pass_wd.wav"
    assert prepare_audio(data, None).filename == "audio.wav"
    assert prepare_audio(data, "???.wav").filename == "audio.wav"


def test_custom_limits_are_honoured() -> None:
    data = corpus.encode_audio("wav", "pcm_s16le", 5)
    limits = AudioLimits(min_seconds=2.0, max_seconds=4.0, max_bytes=AUDIO_LIMITS.max_bytes)
    result = prepare_audio(data, "a.wav", limits)
    assert assert_ready(result, limits) == pytest.approx(4.0, abs=0.1)
    tight = AudioLimits(min_seconds=2.0, max_seconds=30.0, max_bytes=100_000)
    small = prepare_audio(data, "a.wav", tight)  # 880 kB WAV over the byte limit -> MP3
    assert small.mime == "audio/mpeg" and len(small.data) <= 100_000
