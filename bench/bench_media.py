"""Media pipeline benchmark: ``python -m bench.bench_media`` (a minute or two on 2 cores).

1. Normalise a 24-megapixel JPEG photo for wan2.6-i2v-flash: time and peak memory, against a
   naive baseline measured in the same run (full decode, transpose, LANCZOS resize, JPEG save).
2. Fit a generated 1080P 10 s H.264+AAC video (over 10 MiB) under Discord's 10 MiB limit: wall
   time as a real-time factor (seconds of work per second of video), against decoding it alone.

Each measurement runs in a fresh spawned process so its peak RSS (``ru_maxrss``) is its own.
Numbers are printed, never asserted: this machine's speed is not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
DISCORD_LIMIT = 10 * MIB


def _reset_peak() -> None:
    """Start a new high-water mark (Linux >= 4.0); ``ru_maxrss`` would include the parent's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _rss_mib() -> float:
    """Peak resident memory of this process since the last reset, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def make_photo(path: Path, width: int = 6000, height: int = 4000) -> Path:
    from PIL import Image

    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    im = Image.merge("RGB", (base, noise, base.rotate(90, expand=False)))
    exif = Image.Exif()
    exif[0x0112] = 6  # a phone photo taken upright: must be rotated
    im.save(path, "JPEG", quality=92, exif=exif)
    return path


def make_video(path: Path, width: int = 1920, height: int = 1080, seconds: float = 10.0) -> Path:
    """Noisy moving 1080p30 H.264 + AAC: compresses badly on purpose, so it is over 10 MiB."""
    import math
    from array import array

    import av
    from PIL import Image

    fps = 30
    noises = [Image.effect_noise((width, height), 30).convert("RGB") for _ in range(8)]
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    with av.open(str(path), mode="w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": "20", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        a_out = out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(int(seconds * fps)):
            shifted = base.transform(base.size, Image.Transform.AFFINE, (1, 0, i * 6, 0, 1, 0))
            img = Image.blend(shifted, noises[i % len(noises)], 0.3)
            frame = av.VideoFrame.from_image(img)  # type: ignore[no-untyped-call]  # unannotated in PyAV's stub
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        step = 2 * math.pi * 330 / 48000
        total = int(seconds * 48000)
        for start in range(0, total, 1024):
            n = min(1024, total - start)
            pcm = array(
                "h", (int(6000 * math.sin(step * (start + j))) for j in range(n) for _ in "lr")
            )
            af = av.AudioFrame(format="s16", layout="stereo", samples=n)
            af.planes[0].update(pcm.tobytes())
            af.sample_rate = 48000
            af.pts = start
            out.mux(a_out.encode(af))
        out.mux(a_out.encode(None))
    return path


# --------------------------------------------------------------------------- measured jobs
def job_normalise(photo: str) -> dict[str, Any]:
    from core.catalog import MODELS
    from core.media import normalise_image

    data = Path(photo).read_bytes()
    _reset_peak()
    before = _rss_mib()
    t0 = time.perf_counter()
    result = normalise_image(data, MODELS["wan2.6-i2v-flash"])
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "peak_mib": _rss_mib() - before,
        "out": f"{result.width}x{result.height} {result.mime} {len(result.data) / MIB:.2f} MiB",
    }


def job_naive(photo: str) -> dict[str, Any]:
    """What one would write first: decode everything, rotate, resize, save."""
    from PIL import Image, ImageOps

    data = Path(photo).read_bytes()
    _reset_peak()
    before = _rss_mib()
    t0 = time.perf_counter()
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    im.thumbnail((2000, 2000), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": _rss_mib() - before, "out": f"{im.width}x{im.height}"}


def job_fit(video: str, dest: str) -> dict[str, Any]:
    from core.media import fit_video, probe_video

    _reset_peak()
    before = _rss_mib()
    t0 = time.perf_counter()
    result = fit_video(Path(video), Path(dest), DISCORD_LIMIT)
    seconds = time.perf_counter() - t0
    if result is None:
        return {"seconds": seconds, "peak_mib": _rss_mib() - before, "out": "did not fit"}
    info = probe_video(result.path)
    return {
        "seconds": seconds,
        "peak_mib": _rss_mib() - before,
        "out": (
            f"{info.width}x{info.height} {info.codec}+{info.audio_codec} "
            f"{info.size_bytes / MIB:.2f} MiB, {info.duration:.2f} s, attempts={result.attempts}"
        ),
    }


def job_decode(video: str) -> dict[str, Any]:
    import av

    _reset_peak()
    before = _rss_mib()
    t0 = time.perf_counter()
    with av.open(video) as container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        frames = sum(1 for _ in container.decode(vs))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": _rss_mib() - before, "out": f"{frames} frames"}


def _isolated(fn: Callable[..., dict[str, Any]], *args: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="video length (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        root = Path(tmp)
        print("generating a 24 MP photo and a 1080P video …", flush=True)
        photo = str(make_photo(root / "photo.jpg"))
        t0 = time.perf_counter()
        video = str(make_video(root / "in.mp4", seconds=args.seconds))
        size = Path(video).stat().st_size
        print(f"  photo {Path(photo).stat().st_size / MIB:.1f} MiB; video {size / MIB:.1f} MiB "
              f"({time.perf_counter() - t0:.0f} s to generate)")  # fmt: skip

        ours = _isolated(job_normalise, photo)
        naive = _isolated(job_naive, photo)
        print("\nnormalise 24 MP JPEG (6000x4000, EXIF-rotated) for wan2.6-i2v-flash")
        for label, r in (("core.media", ours), ("naive     ", naive)):
            print(f"  {label} : {r['seconds']:.3f} s, peak +{r['peak_mib']:.0f} MiB -> {r['out']}")
        print(f"  speed-up x{naive['seconds'] / ours['seconds']:.1f}, "
              f"peak memory x{naive['peak_mib'] / max(ours['peak_mib'], 1):.1f} lower")  # fmt: skip

        fit = _isolated(job_fit, video, str(root / "out.mp4"))
        dec = _isolated(job_decode, video)
        print(f"\nfit 1080P {args.seconds:g} s ({size / MIB:.1f} MiB) under 10 MiB")
        print(
            f"  fit_video : {fit['seconds']:.1f} s, peak +{fit['peak_mib']:.0f} MiB -> {fit['out']}"
        )
        rtf, base = fit["seconds"] / args.seconds, dec["seconds"] / args.seconds
        print(f"  real-time factor {rtf:.2f} (baseline, decoding alone: {base:.2f}, {dec['out']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
