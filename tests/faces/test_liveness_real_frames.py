"""Server-led liveness on real frames of ../shared/faces/_video/short_hamilton_clip.mp4.

The 12 committed frames (tests/fixtures/faces/clip/, 15-fps frames 60-117, one face each) arrive one
every 200 ms. They honestly show a head turn to the person's right (frames 3-5, 0079-0083) and later a
wide-open mouth (frame 9, 0111), and a second turn to the right at the end (0117). The server's
schedule is pinned to that: turn_right issued at 300 ms and again at 1300 ms; production draws the
sides and the moments at random. The reference is lin_manuel_miranda/1.jpg.
"""

import datetime as dt

import time_machine

from certification.faces import engine
from certification.faces.models import FaceAttempt
from certification.models import Certification

from .conftest import clip_frames, photo, send_attempt, verify_frames


@time_machine.travel(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=True)
def test_the_real_clip_passes_when_the_prompts_come_before_its_motions_and_extends_validity(
        pensioner, pensioner_user, enrol, fixed_challenge, settings):
    enrol(pensioner)
    attempt = send_attempt(pensioner_user, pensioner, clip_frames())
    assert attempt.passed is True, (attempt.reason, attempt.distance, attempt.liveness_detail)
    assert attempt.liveness_detail["frames"] == [3, 11]  # the first turned frame after 300 ms, the second turn
    assert attempt.distance <= settings.FACE_TOLERANCE
    assert attempt.arrivals_ms == [i * 200 for i in range(12)]  # stamped by the server on arrival
    cert = Certification.objects.get(pensioner=pensioner)
    assert cert.method == "face_self" and cert.occurred_on == dt.date(2026, 11, 20)
    pensioner.refresh_from_db()
    assert pensioner.valid_until == dt.date(2027, 11, 20)
    attempt.refresh_from_db()
    assert attempt.frames_deleted_at is not None and attempt.frame_count == 12
    assert not FaceAttempt._meta.get_field("arrivals_ms").null


def test_the_same_clip_fails_when_asked_to_turn_left():
    v = verify_frames(clip_frames(), [{"kind": "turn_left", "at_ms": 300}, {"kind": "turn_left", "at_ms": 1300}])
    assert (v.passed, v.reason, v.liveness_frames) == (False, "no_liveness", [None, None])


def test_the_clips_own_sway_to_the_left_does_not_answer_a_left_turn():
    # Frame 0092 sways to the person's left (yaw +0.132) between two right turns. A recording of the
    # clip would answer "left, then right" with it if the turn threshold were at or below 0.13
    # (docs/faces.md, "Thresholds"); the shipped 0.14 refuses it.
    v = verify_frames(clip_frames(), [{"kind": "turn_left", "at_ms": 1000}, {"kind": "turn_right", "at_ms": 1800}])
    assert (v.passed, v.reason, v.liveness_frames) == (False, "no_liveness", [None, None])
    assert 0.125 < v.poses[7].yaw < engine.TURN_YAW_MIN  # the sway is there, and under the threshold


def test_a_turn_made_before_the_prompt_was_issued_counts_for_nothing():
    # The turn arrives at 600-1000 ms; the prompt is issued at 1000 ms, and no later frame of the
    # first ten turns right: the frames before the prompt do not count.
    v = verify_frames(clip_frames()[:10], [{"kind": "turn_right", "at_ms": 1000}, {"kind": "turn_right", "at_ms": 1300}])
    assert (v.reason, v.liveness_frames[0]) == ("no_liveness", None)


def test_a_still_photo_repeated_fails_liveness_even_for_the_right_person():
    v = verify_frames([clip_frames()[6]] * 6)
    assert (v.passed, v.reason, v.distinct_frames) == (False, "no_liveness", 1)


def test_an_impostor_who_moves_fails_as_not_matching(settings):
    v = verify_frames(clip_frames(), reference="obama_1.jpg")
    assert (v.passed, v.reason) == (False, "no_match")
    assert v.liveness_ok is True and v.distance > settings.FACE_TOLERANCE


def test_two_frames_where_the_detector_misses_the_face_do_not_fail_a_real_person():
    frames = clip_frames()
    frames[1] = frames[7] = photo("no_face.jpg")  # 10 of 12 frames hold a face: 83 % ≥ the shipped 80 %
    v = verify_frames(frames)
    assert v.passed is True, (v.reason, v.face_share, v.liveness_frames)
    assert round(v.face_share, 2) == 0.83


def test_too_many_frames_without_a_face_fail_as_no_face():
    frames = clip_frames()
    for i in (0, 1, 6, 7):
        frames[i] = photo("no_face.jpg")  # 8 of 12: 67 %
    v = verify_frames(frames)
    assert (v.reason, round(v.face_share, 2)) == ("no_face", 0.67)


def test_a_second_person_in_one_frame_fails_the_attempt():
    frames = clip_frames()
    frames[7] = photo("two_people.jpg")
    assert verify_frames(frames).reason == "multiple_faces"
