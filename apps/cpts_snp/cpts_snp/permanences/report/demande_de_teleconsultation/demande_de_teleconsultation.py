"""Demande de téléconsultation: the calls of the period by weekday and hour, the share that ended with no slot
(« No slot available »), and the blocks to open next in the permanence rota: the hours not covered by the rota of
the coming weeks with the most unmet demand (cpts_snp.rules.permanences.recommend_blocks)."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, today

from cpts_snp.agenda.report.figures import weekday_label
from cpts_snp.rules.permanences import unmet_share
from cpts_snp.services.permanences import call_demand, recommendations

DEFAULT_DAYS = 84


def block_label(weekday: int, hour: int) -> str:
	return _("{0} {1}:00-{2}:00").format(weekday_label(weekday), f"{hour:02d}", f"{(hour + 1) % 24:02d}")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = getdate(filters.to_date or today())
	from_date = getdate(filters.from_date or add_days(to_date, -DEFAULT_DAYS + 1))
	if to_date < from_date:
		frappe.throw(_("The end of the period cannot be before its start"))
	demand = call_demand(from_date, to_date)
	recommended = recommendations(demand, getdate(today()), limit=cint(filters.limit) or 5)
	ranks = {(d.weekday, d.hour): rank for rank, d in enumerate(recommended, 1)}

	columns = [
		{"fieldname": "weekday", "label": _("Weekday"), "fieldtype": "Data", "width": 100},
		{"fieldname": "hour", "label": _("Hour"), "fieldtype": "Data", "width": 90},
		{"fieldname": "calls", "label": _("Calls"), "fieldtype": "Int", "width": 80},
		{"fieldname": "unmet", "label": _("No slot available"), "fieldtype": "Int", "width": 130},
		{
			"fieldname": "unmet_share",
			"label": _("Share with no slot (%)"),
			"fieldtype": "Percent",
			"width": 140,
		},
		{"fieldname": "recommended", "label": _("Block to open (rank)"), "fieldtype": "Int", "width": 140},
	]
	data = [
		{
			"weekday": weekday_label(d.weekday),
			"hour": f"{d.hour:02d}:00-{(d.hour + 1) % 24:02d}:00",
			"calls": d.calls,
			"unmet": d.unmet,
			"unmet_share": d.unmet_share,
			"recommended": ranks.get(key),
		}
		for key, d in sorted(demand.items())
	]
	hours = range(24)
	by_hour = {h: [0, 0] for h in hours}
	for d in demand.values():
		by_hour[d.hour][0] += d.calls
		by_hour[d.hour][1] += d.unmet
	shown = [h for h in hours if by_hour[h][0]] or list(range(8, 20))
	chart = {
		"data": {
			"labels": [f"{h:02d}h" for h in shown],
			"datasets": [
				{"name": _("Calls"), "values": [by_hour[h][0] for h in shown]},
				{"name": _("No slot available"), "values": [by_hour[h][1] for h in shown]},
			],
		},
		"type": "bar",
		"colors": ["#5e64ff", "#ff5858"],
	}
	share = unmet_share(demand)
	summary = [
		{"value": sum(d.calls for d in demand.values()), "label": _("Calls"), "datatype": "Int"},
		{
			"value": share or 0,
			"label": _("Share with no slot (%)"),
			"datatype": "Percent",
			"indicator": "Red",
		},
		{
			"value": ", ".join(block_label(d.weekday, d.hour) for d in recommended) or _("None"),
			"label": _("Blocks to open next"),
			"datatype": "Data",
		},
	]
	return columns, data, None, chart, summary
