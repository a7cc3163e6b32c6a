"""The create-task request of each model family: its path and its JSON body.

* ``i2v`` (wan2.1–wan2.6, reference §4): ``input.img_url`` (+ ``audio_url``, ``template``).
* ``wan2.7`` (§5.3): ``input.media`` — ``first_frame`` or ``first_clip``, then ``last_frame``,
  then ``driving_audio``; no ``audio`` parameter.
* ``kf2v`` (§5.4): its own path; ``input.first_frame_url`` / ``last_frame_url`` (+ ``template``,
  which takes the first frame alone); the duration is fixed, so it is not sent.
* ``wan3.0`` (§5.5): ``input.media`` with ``first_frame`` / ``last_frame``; ``parameters.ratio``
  and ``parameters.audio``.

Images travel inline as Base64 data URIs (accepted by every family, §6.2); audio files and clips
only as URLs (public or ``oss://``: reference §5.3, §6.4).
"""

from __future__ import annotations

import base64
from typing import Any

from core.domain.catalog import AudioMode, Family, Model, Region
from core.domain.errors import Input, ValidationError
from core.domain.tasks import MediaFile, TaskRequest

VIDEO_GENERATION_PATH = "/services/aigc/video-generation/video-synthesis"
IMAGE_TO_VIDEO_PATH = "/services/aigc/image2video/video-synthesis"  # kf2v (§2, §5.4)


def data_uri(media: MediaFile) -> str:
    """``data:{mime};base64,{data}`` — the documented inline image form (§6.2)."""
    return f"data:{media.mime};base64,{base64.b64encode(media.data).decode('ascii')}"


def create_path(model: Model) -> str:
    return IMAGE_TO_VIDEO_PATH if model.family is Family.KF2V else VIDEO_GENERATION_PATH


def create_body(
    request: TaskRequest, model: Model, region: Region, *, audio_url: str | None
) -> dict[str, Any]:
    """The JSON body for ``POST {create_path(model)}``.

    ``request`` must already be validated (``core.domain.validation``); ``audio_url``
    is the public or ``oss://`` URL of the audio, if any.
    """
    inp: dict[str, Any] = {}
    prompt = None if request.template else request.prompt
    if prompt:
        inp["prompt"] = prompt
    if request.negative_prompt:
        inp["negative_prompt"] = request.negative_prompt
    if model.family is Family.I2V:
        inp.update(_legacy_input(request, audio_url))
    elif model.family is Family.KF2V:
        inp.update(_kf2v_input(request))
    else:
        inp["media"] = _media(request, model, audio_url)
    params = _parameters(request, model)
    body: dict[str, Any] = {"model": model.wire_id(region), "input": inp}
    if params:
        body["parameters"] = params
    return body


def uses_temporary_storage(body: dict[str, Any]) -> bool:
    """Some input of ``body`` is an ``oss://`` URL: the create must ask DashScope to resolve it
    (``X-DashScope-OssResourceResolve: enable``, reference §3)."""
    inp = body.get("input", {})
    urls = [v for v in inp.values() if isinstance(v, str)]
    urls += [str(item.get("url", "")) for item in inp.get("media", [])]
    return any(url.startswith("oss://") for url in urls)


def _first_frame(request: TaskRequest) -> str:
    if request.image is None:  # validation makes every non-clip request carry one
        raise ValidationError(
            "An image is required: it becomes the first frame.",
            key="image.missing",
            subject=Input.IMAGE,
        )
    return data_uri(request.image)


def _legacy_input(request: TaskRequest, audio_url: str | None) -> dict[str, Any]:
    inp: dict[str, Any] = {"img_url": _first_frame(request)}
    if audio_url:
        inp["audio_url"] = audio_url
    if request.template:
        inp["template"] = request.template
    return inp


def _kf2v_input(request: TaskRequest) -> dict[str, Any]:
    inp: dict[str, Any] = {"first_frame_url": _first_frame(request)}
    if request.template:
        inp["template"] = request.template  # the template takes the first frame alone (§13)
    elif request.last_frame is not None:
        inp["last_frame_url"] = data_uri(request.last_frame)
    return inp


def _media(request: TaskRequest, model: Model, audio_url: str | None) -> list[dict[str, str]]:
    media: list[dict[str, str]] = []
    if request.clip_url is not None and model.family is Family.WAN27:
        media.append({"type": "first_clip", "url": request.clip_url})
    else:
        media.append({"type": "first_frame", "url": _first_frame(request)})
    if request.last_frame is not None:
        media.append({"type": "last_frame", "url": data_uri(request.last_frame)})
    if audio_url and model.family is Family.WAN27:
        media.append({"type": "driving_audio", "url": audio_url})
    return media


def _parameters(request: TaskRequest, model: Model) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if request.resolution is not None:
        params["resolution"] = request.resolution
    if request.ratio is not None and model.ratios:
        params["ratio"] = request.ratio
    if request.duration is not None and not model.duration_fixed:
        params["duration"] = request.duration
    if request.prompt_extend is not None:
        params["prompt_extend"] = request.prompt_extend
    if request.watermark is not None:
        params["watermark"] = request.watermark
    if request.seed is not None:
        params["seed"] = request.seed
    if model.audio is AudioMode.OPTIONAL and request.sound is not None:
        params["audio"] = request.sound
    return params
