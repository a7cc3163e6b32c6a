"""Build the create-task JSON body for either protocol generation (reference §4, §5.2)."""

from __future__ import annotations

import base64
from typing import Any

from core.domain.catalog import AudioMode, Model, Protocol, Region
from core.domain.tasks import MediaFile, TaskRequest


def data_uri(media: MediaFile) -> str:
    """``data:{mime};base64,{data}`` — the documented inline image form (§6.2)."""
    return f"data:{media.mime};base64,{base64.b64encode(media.data).decode('ascii')}"


def create_body(
    request: TaskRequest, model: Model, region: Region, *, audio_url: str | None
) -> dict[str, Any]:
    """The JSON body for ``POST …/video-synthesis``.

    ``request`` must already be validated (``core.domain.validation``); ``audio_url``
    is the public or ``oss://`` URL of the audio, if any.
    """
    image_url = data_uri(request.image)
    prompt = None if request.template else request.prompt
    inp: dict[str, Any] = {}
    if prompt:
        inp["prompt"] = prompt
    if request.negative_prompt:
        inp["negative_prompt"] = request.negative_prompt
    if model.protocol is Protocol.MEDIA:
        media: list[dict[str, str]] = [{"type": "first_frame", "url": image_url}]
        if audio_url:
            media.append({"type": "driving_audio", "url": audio_url})
        inp["media"] = media
    else:
        inp["img_url"] = image_url
        if audio_url:
            inp["audio_url"] = audio_url
        if request.template:
            inp["template"] = request.template
    params: dict[str, Any] = {}
    if request.resolution is not None:
        params["resolution"] = request.resolution
    if request.duration is not None:
        params["duration"] = request.duration
    if request.prompt_extend is not None:
        params["prompt_extend"] = request.prompt_extend
    if request.watermark is not None:
        params["watermark"] = request.watermark
    if request.seed is not None:
        params["seed"] = request.seed
    if model.audio is AudioMode.OPTIONAL and request.sound is not None:
        params["audio"] = request.sound
    body: dict[str, Any] = {"model": model.wire_id(region), "input": inp}
    if params:
        body["parameters"] = params
    return body
