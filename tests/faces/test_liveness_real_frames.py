"""Liveness on real frames from ../shared/faces/_video/short_hamilton_clip.mp4.

Method: 12 frames of the clip (extracted at 15 fps, `ffmpeg -vf fps=15 -q:v 2`, frames
60-117, every one with exactly one face) are uploaded in time order, as a phone would
send a burst. The clip honestly contains a head turn to the person's right (frames 79-83,
nose offset −0.27 of the eye distance) and, later, a wide-open mouth (frames 111-112,
inner-lip gap 0.32-0.40 of the mouth width), but no blink (eye aspect ratio ≥ 0.32).
So the test pins the challenge to ["turn_right", "open_mouth"]; production draws it at
random. The reference is lin_manuel_miranda/1.jpg, a still photo: identity is the median
distance over the 3 most frontal distinct frames (0.42 here), within the shipped 0.55.
"""

import datetime as dt

import time_machine

from certification.faces import engine, services
from certification.faces.models import FaceAttempt
from certification.models import Certification

from .conftest import clip_frames, photo


def _run(user, pensioner, frames):  # type: ignore[no-untyped-def]
    consent = services.consent_record(user=user, pensioner=pensioner, mode="self")
    session = services.session_start(user=user, consent=consent)
    attempt = services.attempt_create(nonce=session.nonce, user=user, frames=frames, user_agent="pytest")
    return services.attempt_dispatch(attempt=attempt)


@time_machine.travel(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=True)
def test_the_real_clip_passes_a_turn_right_then_open_mouth_challenge_and_extends_validity(
        pensioner, pensioner_user, enrol, fixed_challenge, settings):
    enrol(pensioner)
    attempt = _run(pensioner_user, pensioner, clip_frames())
    assert attempt.passed is True, (attempt.reason, attempt.distance, attempt.liveness_detail)
    assert attempt.liveness_ok is True
    assert attempt.distance <= settings.FACE_TOLERANCE
    cert = Certification.objects.get(pensioner=pensioner)
    assert cert.method == "face_self" and cert.occurred_on == dt.date(2026, 11, 20)
    pensioner.refresh_from_db()
    assert pensioner.valid_until == dt.date(2027, 11, 20)


def test_the_same_clip_fails_liveness_when_asked_to_turn_left(pensioner, pensioner_user, enrol, fixed_challenge):
    fixed_challenge(["turn_left", "open_mouth"])
    enrol(pensioner)
    attempt = _run(pensioner_user, pensioner, clip_frames())
    assert (attempt.passed, attempt.reason) == (False, "no_liveness")
    assert not Certification.objects.filter(pensioner=pensioner).exists()


def test_the_clip_has_no_blink_so_a_blink_challenge_fails(pensioner, pensioner_user, enrol, fixed_challenge):
    fixed_challenge(["blink", "open_mouth"])
    enrol(pensioner)
    assert _run(pensioner_user, pensioner, clip_frames()).reason == "no_liveness"


def test_motions_in_the_wrong_order_do_not_count():
    # Synthetic poses: the mouth opens before the head turns.
    rest = engine.Pose(ear=0.35, yaw=0.0, mouth=0.1)
    mouth = engine.Pose(ear=0.35, yaw=0.0, mouth=0.4)
    turn = engine.Pose(ear=0.35, yaw=-0.3, mouth=0.1)
    assert engine.liveness(["open_mouth", "turn_right"], [rest, mouth, rest, turn])[0] is True
    assert engine.liveness(["turn_right", "open_mouth"], [rest, mouth, rest, turn])[0] is False


def test_a_still_photo_repeated_fails_liveness_even_for_the_right_person(
        pensioner, pensioner_user, enrol, fixed_challenge):
    enrol(pensioner)
    still = clip_frames()[6]  # a frontal frame of the right person
    attempt = _run(pensioner_user, pensioner, [still] * 20)
    assert (attempt.passed, attempt.reason) == (False, "no_liveness")
    assert attempt.liveness_detail["distinct_frames"] == 1


def test_the_reference_photo_itself_held_up_fails_liveness(pensioner, pensioner_user, enrol, fixed_challenge):
    enrol(pensioner)
    attempt = _run(pensioner_user, pensioner, [photo("lin_manuel_miranda_1.jpg")] * 8)
    assert attempt.reason == "no_liveness"
    assert attempt.distance is not None and attempt.distance < 0.1


def test_an_impostor_who_moves_fails_as_not_matching(pensioner, pensioner_user, enrol, fixed_challenge, settings):
    enrol(pensioner, "obama_1.jpg")
    attempt = _run(pensioner_user, pensioner, clip_frames())
    assert (attempt.passed, attempt.reason) == (False, "no_match")
    assert attempt.liveness_ok is True and attempt.distance > settings.FACE_TOLERANCE


def test_raw_frames_are_deleted_after_the_decision_and_the_numbers_kept(
        pensioner, pensioner_user, enrol, fixed_challenge, settings):
    from pathlib import Path

    enrol(pensioner)
    attempt = _run(pensioner_user, pensioner, clip_frames())
    attempt.refresh_from_db()
    assert attempt.frames_deleted_at is not None
    assert not (Path(settings.MEDIA_ROOT) / attempt.frames_dir).exists()
    assert attempt.user_agent == "pytest" and attempt.timings_ms["total"] > 0 and attempt.frame_count == 12


def test_frames_are_kept_when_a_retention_period_is_set(pensioner, pensioner_user, enrol, fixed_challenge, settings):
    from pathlib import Path

    settings.FACE_FRAME_RETENTION_DAYS = 7
    enrol(pensioner)
    attempt = _run(pensioner_user, pensioner, clip_frames())
    attempt.refresh_from_db()
    assert attempt.frames_deleted_at is None
    assert len(list((Path(settings.MEDIA_ROOT) / attempt.frames_dir).iterdir())) == 12
    assert FaceAttempt.objects.filter(pk=attempt.pk, frames_deleted_at__isnull=True).exists()


def test_mirrored_frames_swap_left_and_right():
    """The page sends raw camera frames; an app that sends mirrored ones says so and the sign flips."""
    ref = engine.photo_encoding(photo("lin_manuel_miranda_1.jpg"), services.photo_limits())
    limits = services.frame_limits()
    raw = engine.verify(clip_frames(), reference=ref, challenge=["turn_left", "open_mouth"], tolerance=0.55, limits=limits)
    mirrored = engine.verify(clip_frames(), reference=ref, challenge=["turn_left", "open_mouth"], tolerance=0.55,
                             limits=limits, mirrored=True)
    assert (raw.liveness_ok, mirrored.liveness_ok) == (False, True)


def test_a_blink_is_an_eye_aspect_ratio_dip_below_the_open_eye_level():
    # Synthetic poses (the clip has no blink): open 0.32, closed 0.15, half-closed 0.26.
    open_, closed, half = (engine.Pose(ear=e, yaw=0.0, mouth=0.1) for e in (0.32, 0.15, 0.26))
    assert engine.liveness(["blink", "open_mouth"], [open_, closed, open_])[1][0] == 1
    assert engine.liveness(["blink"], [open_, half, open_])[0] is False  # squinting is not a blink
    assert engine.liveness(["blink"], [closed] * 5)[0] is False  # eyes shut throughout: no dip
