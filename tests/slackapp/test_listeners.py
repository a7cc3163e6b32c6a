from __future__ import annotations

from slackapp.listeners import pick_image


def test_the_picture_on_a_message_is_the_first_labelled_one_else_an_unlabelled_one() -> None:
    pdf = {"id": "F1", "mimetype": "application/pdf", "filetype": "pdf"}
    jpeg = {"id": "F2", "mimetype": "image/jpeg", "filetype": "jpg"}
    fresh = {"id": "F3", "mimetype": "", "filetype": ""}  # not scanned yet (§5): bytes decide
    named = {"id": "F4", "mimetype": "binary/octet-stream", "filetype": "png"}
    assert pick_image([pdf, jpeg, fresh]) == jpeg
    assert pick_image([pdf, fresh]) == fresh
    assert pick_image([pdf, named]) == named
    assert pick_image([pdf]) is None and pick_image([]) is None
