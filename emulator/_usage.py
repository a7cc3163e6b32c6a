"""``usage`` of a SUCCEEDED task per model generation (§7.3, §5.3, §5.4, §5.5)."""

from __future__ import annotations

from typing import Any, Literal

from emulator._spec import TaskSpec

WAN30_FPS = 30


def usage(spec: TaskSpec, continuation: Literal["split", "output-only"]) -> dict[str, Any]:
    sr = int(spec.resolution.removesuffix("P"))
    family, gen = spec.rule.family, spec.rule.generation
    if family == "kf2v":
        kf2v: dict[str, Any] = {"video_duration": spec.duration, "video_count": 1}
        if gen == "2.1":
            kf2v["video_ratio"] = "standard"
        else:
            kf2v["SR"] = sr
        return kf2v
    if family == "wan30":
        # Floats, plus fps and the output ratio (§5.5). With reference videos the billed
        # duration is taken as input + output, the wan2.6 formula [uncertain for Wan 3.0].
        seconds = spec.input_video_seconds
        return {
            "video_count": 1,
            "duration": round(float(spec.duration + seconds), 3),
            "input_video_duration": round(float(seconds), 3),
            "output_video_duration": float(spec.duration),
            "fps": WAN30_FPS,
            "SR": sr,
            "ratio": spec.ratio,
        }
    if gen == "2.1":
        return {"video_duration": spec.duration, "video_ratio": "standard", "video_count": 1}
    if gen in ("2.2", "2.5"):
        return {"duration": spec.duration, "SR": sr, "video_count": 1}
    clip = min(spec.clip_seconds, float(spec.duration))
    split = continuation == "split" and clip > 0
    result: dict[str, Any] = {
        # Billed seconds: a continuation is billed for the whole output, clip included.
        "duration": spec.duration,
        "input_video_duration": _num(clip) if split else 0,
        "output_video_duration": _num(spec.duration - clip) if split else spec.duration,
        "SR": sr,
        "video_count": 1,
    }
    if spec.rule.audio == "optional":
        result["audio"] = spec.has_audio
    return result


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)
