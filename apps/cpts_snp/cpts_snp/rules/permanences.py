"""Teleconsultation permanences: the rota's holes and where demand says to open the next blocks.
Pure functions, no database.

Demand is read from the call log: every call counts in the (weekday, hour) it was received (0 = Monday); a call
whose outcome was « No slot available » is *unmet* demand. The blocks to open next are the one-hour blocks not
covered by the rota, with the most unmet demand first (then the most calls, then the earliest in the week);
blocks without unmet demand are never recommended.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cpts_snp.rules.supervision import is_covered

NO_SLOT = "No slot available"
# The busiest hours of teleconsultation demand, a sensible default for the rota to cover: 8-9 h and 18-20 h.
DEFAULT_HOURS = (8, 18, 19)


@dataclass(frozen=True)
class HourDemand:
	weekday: int
	hour: int
	calls: int
	unmet: int

	@property
	def unmet_share(self) -> float | None:
		return round(100.0 * self.unmet / self.calls, 1) if self.calls else None


def demand_by_hour(calls: list[tuple[datetime, str]]) -> dict[tuple[int, int], HourDemand]:
	"""Calls (received at, outcome) counted by (weekday, hour)."""
	total, unmet = Counter(), Counter()
	for received_at, outcome in calls:
		key = (received_at.weekday(), received_at.hour)
		total[key] += 1
		if outcome == NO_SLOT:
			unmet[key] += 1
	return {key: HourDemand(key[0], key[1], total[key], unmet[key]) for key in total}


def unmet_share(demand: dict[tuple[int, int], HourDemand]) -> float | None:
	"""Share (%) of all calls that ended with no slot."""
	calls = sum(d.calls for d in demand.values())
	return round(100.0 * sum(d.unmet for d in demand.values()) / calls, 1) if calls else None


def covered_hours(blocks: list[tuple[datetime, datetime]]) -> set[tuple[int, int]]:
	"""The (weekday, hour) one-hour blocks touched by the rota's permanences."""
	covered = set()
	for start, end in blocks:
		cursor = start.replace(minute=0, second=0, microsecond=0)
		while cursor < end:
			covered.add((cursor.weekday(), cursor.hour))
			cursor += timedelta(hours=1)
	return covered


def recommend_blocks(
	demand: dict[tuple[int, int], HourDemand], covered: set[tuple[int, int]], limit: int = 5
) -> list[HourDemand]:
	"""The uncovered one-hour blocks to open next: most unmet demand first, then most calls, then earliest."""
	candidates = [d for key, d in demand.items() if key not in covered and d.unmet > 0]
	candidates.sort(key=lambda d: (-d.unmet, -d.calls, d.weekday, d.hour))
	return candidates[:limit]


def parse_hours(text: str | None) -> tuple[int, ...]:
	"""Hours of the day the rota must cover, written « 8, 18-20 » (18-20 = the blocks 18 h and 19 h)."""
	if not text or not text.strip():
		return DEFAULT_HOURS
	hours = set()
	for part in text.replace(";", ",").split(","):
		part = part.strip().lower().replace("h", "")
		if not part:
			continue
		if "-" in part:
			first, last = (int(x) for x in part.split("-", 1))
			hours.update(range(first, last))
		else:
			hours.add(int(part))
	if not hours or not all(0 <= h <= 23 for h in hours):
		raise ValueError(text)
	return tuple(sorted(hours))


def uncovered_blocks(
	first_day: date, days: int, hours: tuple[int, ...], blocks: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
	"""The wanted one-hour blocks of `days` days from `first_day` that the permanences do not cover entirely,
	consecutive hours merged into one block."""
	missing = []
	for offset in range(days):
		day = first_day + timedelta(days=offset)
		for hour in sorted(hours):
			start = datetime.combine(day, time(hour))
			end = start + timedelta(hours=1)
			if not is_covered(start, end, blocks):
				if missing and missing[-1][1] == start:
					missing[-1] = (missing[-1][0], end)
				else:
					missing.append((start, end))
	return missing
