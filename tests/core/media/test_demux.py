"""FFmpeg reads only the bytes it is given: playlists naming other files are refused, unread.

Each attack is first run through plain ``av.open`` (a control) to show that FFmpeg really would
read the named file from the working directory; then the pipeline's entry points must refuse it
with their ordinary "not an audio file" / "could not be read" message. The two locks of
:mod:`core.media._demux` (demuxer allow-list, no protocols) are also proven one at a time.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import av.error
import pytest

from core.domain.errors import Input, ValidationError
from core.media import VideoError, prepare_audio, probe_video
from core.media._demux import AUDIO_DEMUXERS, open_bytes, restrictions
from tests.core.media import corpus

#: Another user's files, relative to the bot's working directory: a delivered video, and a sound
#: file (HLS in FFmpeg 8 follows a segment only when its extension and contents agree).
VICTIM = "data/media/videos/job-17.mp4"
VICTIM_SOUND = "data/media/inputs/job-17.mp3"


class NamedBytes(io.BytesIO):
    """Bytes with a file name: FFmpeg only probes HLS for names ending in .m3u8."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


@pytest.fixture
def victim_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding another user's result (a real MP4 with sound) and audio."""
    monkeypatch.chdir(tmp_path)
    for name in (VICTIM, VICTIM_SOUND):
        (tmp_path / name).parent.mkdir(parents=True)
    corpus.make_video(tmp_path / VICTIM, 64, 64, 4.0, fps=10)
    (tmp_path / VICTIM_SOUND).write_bytes(corpus.encode_audio("mp3", "libmp3lame", 4.0))
    for name in (VICTIM, VICTIM_SOUND):
        mark_unread(tmp_path / name)
    return tmp_path


def mark_unread(path: Path) -> None:
    """Access time a day before modification: with relatime, the next read moves it."""
    mtime = path.stat().st_mtime
    os.utime(path, (mtime - 86400, mtime))


def was_read(root: Path) -> bool:
    """Whether anything opened and read a victim file since :func:`mark_unread`."""
    stats = [(root / name).stat() for name in (VICTIM, VICTIM_SOUND)]
    return any(st.st_atime > st.st_mtime - 3600 for st in stats)


def concat_script() -> bytes:
    return f"ffconcat version 1.0\nfile {VICTIM}\n".encode()


def hls_playlist(segment: str) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"#EXTINF:4.0,\n{segment}\n#EXT-X-ENDLIST\n"
    ).encode()


def seconds_of_sound(container: av.container.InputContainer) -> float:
    samples = sum(frame.samples for frame in container.decode(audio=0))
    return samples / container.streams.audio[0].sample_rate


def hls_attacks(root: Path) -> dict[str, bytes]:
    return {
        "relative": hls_playlist(VICTIM_SOUND),
        "file_url": hls_playlist(f"file:{root / VICTIM_SOUND}"),
    }


# ------------------------------------------------------------------ controls: the threat is real
def test_control_plain_ffmpeg_follows_a_concat_script(victim_dir: Path) -> None:
    with av.open(io.BytesIO(concat_script()), "r") as container:
        assert container.format.name == "concat"
        assert seconds_of_sound(container) == pytest.approx(4.0, abs=0.1)
    assert was_read(victim_dir), "this filesystem records reads, so their absence means something"


@pytest.mark.parametrize("kind", ["relative", "file_url"])
def test_control_plain_ffmpeg_follows_a_playlist(victim_dir: Path, kind: str) -> None:
    data = hls_attacks(victim_dir)[kind]
    with av.open(NamedBytes(data, "voice.m3u8"), "r") as container:
        assert container.format.name == "hls"
        assert seconds_of_sound(container) == pytest.approx(4.0, abs=0.1)
    assert was_read(victim_dir)


# ------------------------------------------------------------------ the pipeline refuses them
def assert_not_audio(data: bytes, victim_dir: Path) -> None:
    with pytest.raises(ValidationError) as err:
        prepare_audio(data, "voice.m3u8")
    assert err.value.key == "audio.unreadable"
    assert err.value.subject is Input.AUDIO
    assert "not an audio file" in err.value.message
    assert not was_read(victim_dir), "nothing was read from the named files"


def test_concat_script_as_audio_is_refused(victim_dir: Path) -> None:
    assert_not_audio(concat_script(), victim_dir)


@pytest.mark.parametrize("kind", ["relative", "file_url"])
def test_playlist_as_audio_is_refused(victim_dir: Path, kind: str) -> None:
    assert_not_audio(hls_attacks(victim_dir)[kind], victim_dir)


@pytest.mark.parametrize("kind", ["concat", "relative", "file_url"])
def test_playlist_as_a_downloaded_result_is_refused(victim_dir: Path, kind: str) -> None:
    # a result file whose name FFmpeg would probe as a playlist (the bot names them .mp4)
    data = concat_script() if kind == "concat" else hls_attacks(victim_dir)[kind]
    path = victim_dir / ("result.ffconcat" if kind == "concat" else "result.m3u8")
    path.write_bytes(data)
    with pytest.raises(VideoError) as err:
        probe_video(path)
    assert err.value.key == "video.unreadable"
    assert not was_read(victim_dir)
    with av.open(str(path)) as container:  # control: opened by name, FFmpeg follows it
        assert seconds_of_sound(container) == pytest.approx(4.0, abs=0.1)
    assert was_read(victim_dir)


# ------------------------------------------------------------------ each lock holds on its own
def test_demuxer_allow_list_alone_refuses_a_playlist(victim_dir: Path) -> None:
    only_formats = {"format_whitelist": ",".join(AUDIO_DEMUXERS)}
    with pytest.raises(av.error.FFmpegError):
        av.open(io.BytesIO(concat_script()), container_options=only_formats)
    data = hls_attacks(victim_dir)["relative"]
    with pytest.raises(av.error.FFmpegError):
        av.open(NamedBytes(data, "voice.m3u8"), container_options=only_formats)
    assert not was_read(victim_dir)


def test_no_protocols_alone_stops_nested_opens(victim_dir: Path) -> None:
    # the playlist demuxers allowed on purpose: only the empty protocol list stands in the way
    with pytest.raises(av.error.FFmpegError):
        open_bytes(concat_script(), ("concat",))
    no_protocols = {"protocol_whitelist": restrictions(())["protocol_whitelist"]}
    for data in hls_attacks(victim_dir).values():
        with pytest.raises(av.error.FFmpegError):
            av.open(NamedBytes(data, "voice.m3u8"), container_options=no_protocols)
    assert not was_read(victim_dir)


def test_no_protocols_still_reads_the_bytes_themselves() -> None:
    data = corpus.encode_audio("mp3", "libmp3lame", 3.5)
    with open_bytes(data, AUDIO_DEMUXERS) as container:
        assert container.format.name == "mp3"
        assert seconds_of_sound(container) == pytest.approx(3.5, abs=0.1)
