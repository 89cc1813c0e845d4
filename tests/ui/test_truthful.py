"""Pilot tests: charts on one scale, changes coloured by which way is better, endings kept
back until they have been read."""

from __future__ import annotations

from rich.text import Text

from game.ui.widgets import CaseloadView, NoticeLine, Transcript

from .helpers import new_game, play_to_end, screen_name

SIZE = (80, 24)
TO_THE_END = ("1", "2", "1", "2", "1", "1", "1", "1")


def _colours(text: Text) -> set[str]:
    return {str(span.style) for span in text.spans}


async def test_endings_are_not_toasted_and_wait_until_the_review(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        await pilot.pause()
        session = app.session
        assert session.game.ended and session.unread_endings == {"ana", "ben"}
        toasts = [n.message for n in app._notifications]
        assert not any("Same as before" in t or "Still out" in t for t in toasts)
        panel = app.screen.query_one(CaseloadView)
        assert "Ending" not in panel.plain
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(app) == "ReviewScreen"
        review = str(app.screen.query_one("#review-text").render())
        assert "Ana: Same as before" in review and "(mixed)" not in review
        await pilot.press("escape")
        await pilot.pause()
        assert session.unread_endings == set()
        assert "Ending: Same as before" in panel.plain and "(mixed)" not in panel.plain


async def test_an_ending_shows_beside_its_passage_once_scrolled_to_the_end(build):
    app = build()
    # Short enough that the last passages don't fit: the player has to scroll through them.
    async with app.run_test(size=(100, 13)) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        await pilot.pause()
        transcript = app.screen.query_one(Transcript)
        panel = app.screen.query_one(CaseloadView)
        assert transcript.max_scroll_y > transcript.scroll_y  # the ending passages run on below
        assert app.session.unread_endings and "Ending" not in panel.plain
        transcript.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert not app.session.unread_endings
        assert "Ending: Same as before" in panel.plain


async def test_change_lines_are_coloured_by_which_way_is_better(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        # Get to work, then go home (saying yes when asked): the day ends, Ben offends and the
        # league place rises.
        await pilot.press("1", "2")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        notices = app.screen.query_one(NoticeLine)
        worse = app.screen.query_one(NoticeLine).get_component_rich_style("notice--worse", partial=True)
        better = app.screen.query_one(NoticeLine).get_component_rich_style("notice--better", partial=True)
        assert worse != better
        text = notices.build(80)
        assert "Place in the league table +2" in text.plain
        start = text.plain.index("Place in the league table +2")
        styles = [span.style for span in text.spans if span.start <= start < span.end]
        assert styles == [worse]  # up is worse for a league place (better: lower)


async def test_outcome_charts_share_a_scale_and_mark_the_weeks(build):
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        panel = app.screen.query_one(CaseloadView)
        # Hovering over a variable in the case panel shows its description.
        line = panel.plain.splitlines().index(
            next(x for x in panel.plain.splitlines() if x.startswith("Trust in you"))
        )
        await pilot.hover(CaseloadView, offset=(2, line))
        assert panel.tooltip is not None and panel.tooltip.plain == "Whether they pick up when you ring."
        await pilot.hover(CaseloadView, offset=(2, 0))  # a name: no description
        assert panel.tooltip is None
        await pilot.press("r", "escape", "o")
        await pilot.pause()
        assert screen_name(app) == "OutcomesScreen"
        charts = list(app.screen.query("Chart"))
        trust = [c for c in charts if c.var.base == "trust"]
        assert len(trust) == 2
        drawn = [c.render().plain.splitlines() for c in trust]
        # The same scale for both cases: the top label is the bar's maximum, the floor zero.
        assert all(lines[1].strip().startswith("10 ┤") for lines in drawn)
        assert all(any(line.strip().startswith("0 └") for line in lines) for lines in drawn)
        axis = next(line for line in drawn[0] if line.strip().startswith("Day"))
        assert axis.split()[1:] == ["1", "2", "3", "4"]  # a label for every day here
        assert trust[0].tooltip.plain == "Whether they pick up when you ring."
        descriptions = [str(s.render()) for s in app.screen.query(".chart-description")]
        assert descriptions.count("Whether they pick up when you ring.") == 2
        # Ana's ending, read in the review, is marked under her charts and said in words.
        assert any("▲" in line for line in drawn[0])
        listed = " ".join(str(s.render()) for s in app.screen.query(".state-lines"))
        assert "Ending: Same as before" in listed


async def test_a_game_resumed_just_after_its_endings_keeps_them_unread(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        app.session.save("finished")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        if screen_name(app) == "ConfirmDialog":
            await pilot.press("y")
            await pilot.pause()
        assert not app.session.game.ended and not app.session.unread_endings
        app.session.load("finished")
        assert app.session.unread_endings == {"ana", "ben"}


async def test_case_panel_sparklines_are_coloured_by_which_way_is_better(build):
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1", "2", "y", "1", "2")  # Ana's housing goes up; the league place too
        await pilot.pause()
        panel = app.screen.query_one(CaseloadView)
        better = panel.get_component_rich_style("caseload--better", partial=True).color
        worse = panel.get_component_rich_style("caseload--worse", partial=True).color
        assert better != worse

        def colours(label: str) -> set:
            lines = panel.plain.splitlines()
            y = next(i for i, line in enumerate(lines) if line.startswith(label)) + 1
            return {seg.style.color for seg in panel.render_line(y) if seg.text.strip() and seg.style}

        assert better in colours("Accommodation") and worse not in colours("Accommodation")
        assert worse in colours("Place in the league table")  # 60 up to 62: lower is better
