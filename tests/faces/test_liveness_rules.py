"""The liveness rules on synthetic poses and boxes (no images): prompts count only in frames that arrive
after they were issued, within the response window, in order; small spurious boxes are not people;
a face that changes part-way fails as spliced."""

import dlib
import numpy as np

from certification.faces import engine

REST = engine.Pose(ear=0.35, yaw=0.0, mouth=0.1)
MOUTH = engine.Pose(ear=0.35, yaw=0.0, mouth=0.4)
RIGHT = engine.Pose(ear=0.35, yaw=-0.3, mouth=0.1)
P = engine.Prompt


def test_each_motion_must_arrive_after_its_prompt_and_in_order():
    poses = [REST, RIGHT, REST, MOUTH, REST]
    arrived = [0, 1000, 2000, 3000, 4000]
    assert engine.liveness([P("turn_right", 500), P("open_mouth", 2500)], poses, arrived) == (True, [1, 3])
    # The same frames, the mouth prompt first: the turn came before it was asked for in that order.
    assert engine.liveness([P("open_mouth", 500), P("turn_right", 2500)], poses, arrived)[0] is False
    # The turn arrived before its prompt was issued.
    assert engine.liveness([P("turn_right", 1500), P("open_mouth", 2500)], poses, arrived)[0] is False


def test_a_motion_later_than_the_response_window_does_not_count():
    poses = [REST, REST, RIGHT, MOUTH]
    late = [0, 100, engine.PROMPT_RESPONSE_MS + 200, engine.PROMPT_RESPONSE_MS + 300]
    assert engine.liveness([P("turn_right", 100), P("open_mouth", 150)], poses, late)[0] is False
    ok = [0, 100, engine.PROMPT_RESPONSE_MS, engine.PROMPT_RESPONSE_MS + 100]
    assert engine.liveness([P("turn_right", 100), P("open_mouth", 150)], poses, ok)[0] is True


def test_frames_without_a_face_are_skipped_not_fatal():
    poses = [REST, None, RIGHT, None, MOUTH]
    assert engine.liveness([P("turn_right", 0), P("open_mouth", 0)], poses, [1, 2, 3, 4, 5]) == (True, [2, 4])


def test_a_small_spurious_box_beside_the_face_is_not_a_second_person():
    face = dlib.rectangle(100, 100, 300, 300)  # 200 × 200
    hand = dlib.rectangle(10, 10, 70, 70)  # 60 × 60: 9 % of the face's area
    other = dlib.rectangle(400, 100, 580, 280)  # 180 × 180: a second person
    assert engine.faces_in([face, hand]) == 1
    assert engine.faces_in([face, other]) == 2
    assert engine.faces_in([]) == 0


def _decide(encodings: list[np.ndarray], reference: np.ndarray):  # type: ignore[no-untyped-def]
    n = len(encodings)
    poses = [RIGHT if i == 2 else MOUTH if i == n - 3 else REST for i in range(n)]
    infos = [engine.FrameInfo(faces=1, box=(0, 0, 10, 10), pose=p, phash=i, digest=str(i)) for i, p in enumerate(poses)]
    return engine.decide(infos, arrived_ms=[i * 200 for i in range(n)], prompts=[P("turn_right", 100), P("open_mouth", 300)],
                         encoder=lambda i: encodings[i], reference=reference, tolerance=0.55, face_share=0.8,
                         splice_tolerance=0.6)


def test_a_face_that_changes_part_way_fails_as_spliced_even_when_the_frontal_frames_match():
    rng = np.random.default_rng(7)
    ref = rng.normal(size=128)
    ref /= np.linalg.norm(ref)
    near = [ref + rng.normal(scale=0.02, size=128) for _ in range(12)]  # distance ~0.2
    assert _decide(near, ref).passed is True
    far = ref + 0.9 * rng.normal(size=128) / np.sqrt(128)  # distance ~0.9: someone else
    spliced = near[:8] + [far] * 4  # the last third is another face
    v = _decide(spliced, ref)
    assert (v.passed, v.reason) == (False, "spliced") and v.splice_distance > 0.6
    assert v.distance < 0.55  # the frontal frames alone would have passed


def test_frames_are_decided_in_the_servers_arrival_order_not_the_upload_order():
    poses = [MOUTH, REST, RIGHT]  # uploaded in this order…
    infos = [engine.FrameInfo(faces=1, box=(0, 0, 1, 1), pose=p, phash=i, digest=str(i)) for i, p in enumerate(poses)]
    ref = np.zeros(128)
    args = dict(prompts=[P("turn_right", 50), P("open_mouth", 150)], encoder=lambda i: ref, reference=ref,
                tolerance=0.55, face_share=0.8, splice_tolerance=0.6)
    assert engine.decide(infos, arrived_ms=[300, 0, 100], **args).liveness_ok is True  # …but arrived rest, turn, mouth
    assert engine.decide(infos, arrived_ms=[0, 100, 300], **args).liveness_ok is False


def test_a_recording_that_plays_every_motion_in_turn_fails_on_the_motion_nobody_asked_for():
    left = engine.Pose(ear=0.35, yaw=0.3, mouth=0.1)
    cycling = [REST, RIGHT, MOUTH, left, RIGHT, MOUTH, left, RIGHT, MOUTH]
    arrived = [i * 500 for i in range(len(cycling))]
    prompts = [P("turn_right", 200), P("open_mouth", 700)]
    assert engine.liveness(prompts, cycling, arrived)[0] is False
    # The same answers without the clear left turns pass; a slight sway to the left is not a turn.
    sway = engine.Pose(ear=0.35, yaw=0.16, mouth=0.1)
    assert engine.liveness(prompts, [p if p is not left else sway for p in cycling], arrived)[0] is True


def test_the_same_turn_asked_twice_needs_the_head_back_in_between():
    arrived = [0, 1000, 2000, 3000, 4000]
    twice = [P("turn_right", 500), P("turn_right", 2500)]
    assert engine.liveness(twice, [REST, RIGHT, REST, RIGHT, REST], arrived) == (True, [1, 3])
    # A head turned once and held there answers the first prompt only.
    assert engine.liveness(twice, [REST, RIGHT, RIGHT, RIGHT, RIGHT], arrived)[0] is False


def test_a_recording_that_turns_both_ways_fails_a_one_sided_schedule_on_the_unasked_turn():
    left = engine.Pose(ear=0.35, yaw=0.3, mouth=0.1)
    both = [REST, left, REST, RIGHT, REST, left, REST, RIGHT, REST]
    arrived = [i * 500 for i in range(len(both))]
    assert engine.liveness([P("turn_right", 1000), P("turn_right", 3000)], both, arrived)[0] is False
    assert engine.liveness([P("turn_left", 200), P("turn_right", 1000)], both, arrived)[0] is True


def test_the_server_issues_only_head_turns():
    assert set(engine.PROMPTS) == {"turn_left", "turn_right"}
    assert "open_mouth" in engine.KINDS  # still measured for manifests that ask for it
