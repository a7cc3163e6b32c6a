"""Reading a submitted modal back, and placing errors on the input they concern."""

from __future__ import annotations

import pytest

from core.domain.catalog import Region, first_frame_models
from core.domain.errors import AnimateError, Input, ValidationError
from core.domain.validation import validate_spec
from slackapp import answers, form
from tests.fakeslack._blocks import check_view, state_values

ORIGIN = form.Origin("C1", "en-US")


def test_untouched_defaults_submit_a_request_the_facade_accepts() -> None:
    for model in first_frame_models(Region.BEIJING):
        built = form.build(ORIGIN, Region.BEIJING, model_id=model.id)
        blocks = check_view(built)["blocks"]
        values = state_values(blocks, {"prompt": "a cat"}, lambda f: {}, partial=True)
        asked = answers.read(values, Region.BEIJING)
        checked = validate_spec(asked.spec, Region.BEIJING)
        assert checked.model == model.id and asked.upload is None


@pytest.mark.parametrize(
    ("error", "block"),
    [
        (ValidationError("x", key="request.resolution"), "resolution.wan2.6-i2v-flash"),
        (ValidationError("x", key="request.duration"), "duration.wan2.6-i2v-flash"),
        (ValidationError("x", key="request.prompt_too_long"), "prompt"),
        (ValidationError("x", key="image.pdf", subject=Input.IMAGE), "image"),
        (ValidationError("x", key="request.aspect"), "aspect"),
        (AnimateError("x", key="limit.active_jobs"), "image"),  # no input of its own: first
        (ValidationError("x", key="request.silent_unsupported"), "sound.wan2.6-i2v-flash"),
    ],
)
def test_errors_land_on_the_input_they_concern(error: AnimateError, block: str) -> None:
    assert answers.error_block(form.build(ORIGIN, Region.BEIJING), error) == block


def test_without_a_file_input_a_picture_error_lands_on_the_first_input() -> None:
    shortcut = form.Origin("C1", "en-US", source=form.SourceFile("F", "a.png", 1, "u"))
    built = form.build(shortcut, Region.BEIJING)
    error = ValidationError("x", key="image.pdf", subject=Input.IMAGE)
    assert answers.error_block(built, error) == "prompt"
