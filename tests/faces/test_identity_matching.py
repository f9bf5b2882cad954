"""Identity with the production matcher on real photos, and the photo-level reasons."""

import pytest
from django.conf import settings

from certification.faces import engine, services

from .conftest import photo, verify_frames


def enc(name: str):  # type: ignore[no-untyped-def]
    return engine.photo_encoding(photo(name), services.photo_limits())


def test_two_photos_of_the_same_man_are_within_the_shipped_tolerance():
    d = engine.distance(enc("obama_1.jpg"), enc("obama_2.jpg"))
    assert d <= settings.FACE_TOLERANCE


def test_a_different_man_is_outside_the_shipped_tolerance():
    d = engine.distance(enc("obama_1.jpg"), enc("biden_1.jpg"))
    assert d > settings.FACE_TOLERANCE


def test_shipped_tolerance_is_stricter_than_the_library_default_that_gave_a_false_accept():
    assert settings.FACE_TOLERANCE < 0.6


def test_a_photo_with_two_people_is_refused_as_more_than_one_face():
    with pytest.raises(engine.FaceError) as exc:
        enc("two_people.jpg")
    assert exc.value.reason == "multiple_faces"


def test_a_photo_with_no_face_is_refused_as_no_face():
    with pytest.raises(engine.FaceError) as exc:
        enc("no_face.jpg")
    assert exc.value.reason == "no_face"


def test_frames_showing_two_people_fail_with_more_than_one_face():
    v = verify_frames([photo("two_people.jpg")] * 4, reference="obama_1.jpg")
    assert (v.passed, v.reason) == (False, "multiple_faces")


def test_frames_showing_no_face_fail_with_no_face():
    v = verify_frames([photo("no_face.jpg")] * 4, reference="obama_1.jpg")
    assert (v.passed, v.reason, v.face_share) == (False, "no_face", 0.0)
