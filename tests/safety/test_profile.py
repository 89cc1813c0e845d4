"""The profile beside the saves is read like a save: a FIFO or a hostile value is a problem
reported, never a hang or a crash, and the file is left alone."""

from __future__ import annotations

import os

import pytest

from game.profile import PROFILE_NAME, Profile


def test_a_fifo_profile_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / PROFILE_NAME)
    profile = Profile.load(tmp_path)
    assert "FIFO" in profile.problem and profile.read_only


@pytest.mark.parametrize(
    "body",
    [
        '{"format": "straight-and-narrow-profile", "version": 1, "stories": {}, "n": ' + "9" * 5000 + "}",
        '{"format": "straight-and-narrow-profile", "version": 1, "stories": {}, "n": NaN}',
        '{"format": "straight-and-narrow-profile", "version": 1, "stories": {}, "t": "\\udc00"}',
    ],
)
def test_a_profile_value_that_cannot_round_trip_is_a_problem(tmp_path, body):
    path = tmp_path / PROFILE_NAME
    path.write_text(body)
    profile = Profile.load(tmp_path)
    assert "damaged" in profile.problem and profile.read_only
    assert path.read_text() == body


def test_a_sparse_huge_profile_is_refused_from_its_size(tmp_path):
    with open(tmp_path / PROFILE_NAME, "wb") as f:
        f.truncate(3 * 1024**3)
    assert "too large" in Profile.load(tmp_path).problem
