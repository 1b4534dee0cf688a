"""One definition of each list of choices and status colour (issue 15 §8): cpts_snp.choices. The doctypes'
Select options equal it, every status has a Frappe indicator colour, the desk's boot serves it, and no JavaScript
file of the app writes a list of those choices or a colour map of its own."""

import json
import re
from pathlib import Path

import frappe
import pytest
from cpts_snp import choices
from cpts_snp.tests.factories import make_user

APP = Path(frappe.get_app_path("cpts_snp"))
INDICATOR_COLOURS = set(choices.INDICATOR_HEX)


def select_fields():
	for path in sorted(APP.glob("*/doctype/*/*.json")):
		doc = json.loads(path.read_text())
		if doc.get("doctype") != "DocType":
			continue
		for field in doc.get("fields", []):
			if field.get("fieldtype") == "Select":
				yield doc["name"], field["fieldname"], field.get("options") or ""


def test_every_select_field_of_the_app_has_its_values_defined_once_in_python():
	in_json = {(doctype, fieldname) for doctype, fieldname, _options in select_fields()}
	assert in_json == set(choices.CHOICES)


@pytest.mark.parametrize("doctype, fieldname, options", list(select_fields()))
def test_the_doctype_offers_exactly_the_python_definition(doctype, fieldname, options):
	assert tuple(options.split("\n")) == choices.options(doctype, fieldname)
	# and Frappe's meta (what forms, filters and imports use) says the same
	assert tuple(
		(frappe.get_meta(doctype).get_field(fieldname).options or "").split("\n")
	) == choices.options(doctype, fieldname)


@pytest.mark.parametrize("key", list(choices.COLOURS))
def test_each_status_has_a_frappe_indicator_colour(key):
	colours = choices.COLOURS[key]
	assert set(colours) == {value for value in choices.CHOICES[key] if value}
	assert set(colours.values()) <= INDICATOR_COLOURS


def test_each_status_value_reads_in_french():
	frappe.local.lang = "fr"
	untranslated = {
		value
		for key in choices.COLOURS
		for value in choices.CHOICES[key]
		if value and frappe._(value) == value and value not in ("SAS", "CPTS")
	}
	assert not untranslated


def test_the_desk_boot_serves_the_definitions_to_the_javascript():
	user = make_user(["Télésecrétaire"], desk_user=True)
	frappe.set_user(user)
	# frappe.sessions.get calls the extend_bootinfo hooks for each desk session
	assert "cpts_snp.choices.boot" in frappe.get_hooks("extend_bootinfo")
	bootinfo = frappe._dict()
	frappe.get_attr("cpts_snp.choices.boot")(bootinfo=bootinfo)
	served = bootinfo.cpts_snp_choices
	assert served["options"]["SNP Call"]["caller_type"] == list(choices.options("SNP Call", "caller_type"))
	assert served["colours"]["SNP Slot"]["status"]["Available"] == "green"
	assert served["lists"]["call_outcomes_without_booking"] == list(choices.CALL_OUTCOMES_WITHOUT_BOOKING)
	assert served["lists"]["computable_run_statuses"] == ["Draft", "Computed", "Failed"]


def test_the_slot_calendar_colours_come_from_the_same_definition():
	from cpts_snp.api.calendar import hex_colour

	assert hex_colour("SNP Slot", "status", "Booked") == choices.INDICATOR_HEX["blue"]


# --- no list or colour written again in JavaScript ----------------------------------------------------------
STRING = r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\''
COLOUR_WORDS = "|".join(sorted(INDICATOR_COLOURS, key=len, reverse=True))


def app_js_files():
	for path in sorted(APP.rglob("*.js")):
		if "node_modules" in path.parts or "dist" in path.parts:
			continue
		yield path


def literal_lists(source: str):
	"""The strings listed by each array literal of `source`: its string items and its `{ value: "…" }` items
	(one level of brackets, good enough for lists of choices)."""
	for match in re.finditer(r"\[([^\[\]]*)\]", source):
		body = match.group(1)
		items = [a or b for a, b in re.findall(rf"(?:^|,)\s*(?:{STRING})\s*(?=,|$)", body.strip())]
		items += [a or b for a, b in re.findall(rf"\bvalue\s*:\s*(?:{STRING})", body)]
		if items:
			yield items


@pytest.mark.parametrize("path", list(app_js_files()), ids=lambda p: str(p.relative_to(APP)))
def test_no_javascript_writes_a_list_of_choices_again(path):
	source = path.read_text()
	for items in literal_lists(source):
		for key, values in choices.CHOICES.items():
			repeated = {item for item in items if item} & {value for value in values if value}
			assert len(repeated) < 2, f"{path.name} writes values of {key} again: {sorted(repeated)}"


@pytest.mark.parametrize("path", list(app_js_files()), ids=lambda p: str(p.relative_to(APP)))
def test_no_javascript_writes_a_status_colour_map(path):
	source = path.read_text()
	statuses = {value for key in choices.COLOURS for value in choices.CHOICES[key] if value}
	pairs = re.findall(rf'["\']?([A-Za-z][\w\- ]*)["\']?\s*:\s*["\']({COLOUR_WORDS})["\']', source)
	assert not [(status, colour) for status, colour in pairs if status in statuses], path.name
	# nor a colour chosen by comparing a status by hand
	assert not re.search(rf'status\s*===?\s*"[^"]+"\s*\?\s*(\[[^\]]*)?"({COLOUR_WORDS})"', source), path.name


def test_the_portal_offers_the_slot_modalities_of_the_one_definition(server, http_login, committed):
	user, _professional = committed.doctor()
	frappe.db.commit()
	page = http_login(user).get(f"{server}/snp/creneaux").text
	offered = re.findall(r'<option value="(Office|Teleconsultation|Home visit)">', page)
	assert tuple(offered) == choices.options("SNP Slot", "modality")


@pytest.mark.parametrize("path", sorted(APP.glob("www/**/*.html")), ids=lambda p: str(p.relative_to(APP)))
def test_no_portal_template_writes_a_list_of_choices_again(path):
	for items in literal_lists(path.read_text().replace("(", "[").replace(")", "]")):
		for key, values in choices.CHOICES.items():
			repeated = {item for item in items if item} & {value for value in values if value}
			assert len(repeated) < 2, f"{path.name} writes values of {key} again: {sorted(repeated)}"
