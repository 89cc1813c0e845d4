"""Ten thousand seeded random keypresses, clicks and resizes, on every screen, down to 20x8."""

from __future__ import annotations

import pytest

from ..ui.conftest import UI_STORY, build, saves  # noqa: F401 - fixtures
from ..ui.test_monkey import SIZES, _monkey

TINY = [(20, 8), (24, 9), (30, 10), (32, 12)]


@pytest.mark.heavy
async def test_ten_thousand_events_down_to_20x8(build):  # noqa: F811 - the fixture
    done = await _monkey(build, UI_STORY, seed=2015, events_wanted=10_000, sizes=TINY + SIZES)
    assert done == 10_000
