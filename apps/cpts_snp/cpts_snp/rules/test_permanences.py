"""The blocks to open next, on a crafted call log whose answer is known:

Monday 2026-11-30 and Monday 2026-12-07 (weekday 0), Wednesday 2026-12-02 (weekday 2).
- Mon 08 h: 5 calls, 4 with no slot             → unmet 4
- Mon 18 h: 6 calls, 3 with no slot             → unmet 3 (but covered by the rota: never recommended)
- Wed 19 h: 3 calls, 3 with no slot             → unmet 3, fewer calls than Mon 12 h
- Mon 12 h: 4 calls, 3 with no slot             → unmet 3, 4 calls
- Wed 10 h: 7 calls, none with no slot           → no unmet demand: never recommended
Expected ranking: Mon 08 h, Mon 12 h, Wed 19 h. Share with no slot: 13 / 25 = 52 %.
"""

from datetime import date, datetime, timedelta

from cpts_snp.rules.permanences import (
	NO_SLOT,
	covered_hours,
	demand_by_hour,
	parse_hours,
	recommend_blocks,
	uncovered_blocks,
	unmet_share,
)

BOOKED = "SNP appointment booked"


def calls(day, hour, total, unmet):
	return [(datetime(2026, *day, hour, 5 * i % 60), NO_SLOT if i < unmet else BOOKED) for i in range(total)]


CALL_LOG = (
	calls((11, 30), 8, 3, 2)
	+ calls((12, 7), 8, 2, 2)
	+ calls((11, 30), 18, 6, 3)
	+ calls((12, 2), 19, 3, 3)
	+ calls((12, 7), 12, 4, 3)
	+ calls((12, 2), 10, 7, 0)
)
# The rota: a permanence on Mondays 18-19 h.
ROTA = [(datetime(2026, 12, 14, 18), datetime(2026, 12, 14, 19))]


def test_demand_is_counted_by_weekday_and_hour_with_the_calls_left_without_a_slot():
	demand = demand_by_hour(CALL_LOG)
	assert (demand[(0, 8)].calls, demand[(0, 8)].unmet) == (5, 4)
	assert demand[(0, 8)].unmet_share == 80.0
	assert unmet_share(demand) == 52.0


def test_the_recommended_blocks_are_the_uncovered_hours_with_the_most_unmet_demand():
	recommended = recommend_blocks(demand_by_hour(CALL_LOG), covered_hours(ROTA), limit=5)
	assert [(d.weekday, d.hour) for d in recommended] == [(0, 8), (0, 12), (2, 19)]


def test_the_limit_keeps_the_best_blocks_only():
	assert [(d.weekday, d.hour) for d in recommend_blocks(demand_by_hour(CALL_LOG), set(), limit=2)] == [
		(0, 8),
		(0, 18),
	]


def test_hours_to_cover_are_read_from_a_short_text():
	assert parse_hours("8, 18-20") == (8, 18, 19)
	assert parse_hours("") == (8, 18, 19)


def test_uncovered_blocks_merge_consecutive_hours_and_skip_covered_ones():
	monday = date(2026, 12, 14)
	missing = uncovered_blocks(monday, 2, (8, 18, 19), ROTA)
	tuesday = monday + timedelta(days=1)
	assert missing == [
		(datetime(2026, 12, 14, 8), datetime(2026, 12, 14, 9)),
		(datetime(2026, 12, 14, 19), datetime(2026, 12, 14, 20)),
		(datetime.combine(tuesday, datetime.min.time()).replace(hour=8), datetime(2026, 12, 15, 9)),
		(datetime(2026, 12, 15, 18), datetime(2026, 12, 15, 20)),
	]
