"""Chunks are analysed as they arrive (detection, landmarks, hash, one encoding per chunk), so the check
after the last chunk has almost nothing left to do (the verdict within 3 s of the last frame)."""

import datetime as dt

from certification.faces import services

from .conftest import clip_frames


def test_chunks_analysed_on_arrival_leave_the_decision_no_frame_to_analyse_and_no_encoding(
        pensioner, pensioner_user, enrol, fixed_challenge, django_capture_on_commit_callbacks):
    enrol(pensioner)
    consent = services.consent_record(user=pensioner_user, pensioner=pensioner, mode="self")
    session = services.session_start(user=pensioner_user, consent=consent)
    frames = clip_frames() * 3  # 36 frames, 12 chunks: every sixth of the attempt holds an encoded frame
    for k in range(0, 36, 3):
        with django_capture_on_commit_callbacks(execute=True):  # the chunk's analysis task, as on the worker
            services.frames_add(nonce=session.nonce, user=pensioner_user, frames=frames[k:k + 3],
                                now=session.created_at + dt.timedelta(milliseconds=200 * (k + 2)))
    attempt = services.attempt_finish(nonce=session.nonce, user=pensioner_user,
                                      now=session.created_at + dt.timedelta(milliseconds=7400))
    attempt = services.attempt_dispatch(attempt=attempt)
    assert attempt.passed is True, (attempt.reason, attempt.liveness_detail)
    assert attempt.timings_ms["analysed_now"] == 0 and attempt.timings_ms["encodings"] == 0
    assert attempt.frames_deleted_at is not None  # the per-frame analyses went with the frames
