"""Places of practice (SNP Place): the addresses where doctors see SNP patients, with the national identifiers the
SAS platform needs. Slots and templates point at a place and show its address; the free text of the first
versions is turned into places by a patch; doctors pick a place of the CPTS in the portal."""

import random
import string

import frappe
import pytest
from cpts_snp.exceptions import InvalidCodeError, InvalidRPPSError
from cpts_snp.services.generation import generate_for_template
from cpts_snp.services.places import label_of
from cpts_snp.tests.factories import (
	future_start,
	make_professional,
	make_sector,
	make_slot,
	make_template,
	next_weekday,
	unique_suffix,
)


def make_place(**values):
	return frappe.get_doc(
		{
			"doctype": "SNP Place",
			"place_name": "Maison de santé des Tilleuls " + unique_suffix(4),
			"address_line": "3 rue des Tilleuls",
			"postal_code": "44400",
			"city": "Rezé",
			**values,
		}
	).insert()


def label(place):
	return f"{place.place_name}, {place.address_line}, {place.postal_code} {place.city}"


# --- The place and its identifiers ------------------------------------------------------------------------------
def test_a_place_is_named_for_good_and_cleaned():
	place = make_place(
		place_name="  Cabinet   du Port ",
		phone="02 40 12 34 56",
		finess="440 000 289",
		siret="732 829 320 00074",
	)
	assert place.name.startswith("LIEU-")
	assert place.place_name == "Cabinet du Port"
	assert (place.finess, place.siret, place.phone) == ("440000289", "73282932000074", "+33 2 40 12 34 56")
	assert place.active == 1


@pytest.mark.parametrize(
	"values, message",
	[
		({"postal_code": "4440"}, "Le code postal 4440 n'est pas valide"),
		({"finess": "44000028"}, "Le numéro FINESS 44000028 n'est pas valide"),
		({"siret": "73282932000075"}, "Le SIRET 73282932000075 n'est pas valide"),
		({"rpps_rang": "12AB"}, "Le RPPS rang 12AB n'est pas valide"),
	],
)
def test_a_place_with_a_bad_code_is_refused_in_french(values, message):
	with pytest.raises(InvalidCodeError, match=message):
		make_place(**values)
	assert not frappe.db.exists("SNP Place", {"postal_code": values.get("postal_code", "x")})


def test_a_place_name_with_markup_is_refused():
	with pytest.raises(frappe.ValidationError):
		make_place(place_name="<b>Cabinet</b>")


def test_a_place_needs_its_address():
	with pytest.raises(frappe.MandatoryError):
		make_place(city=None)


# --- Professionals: RPPS or ADELI ---------------------------------------------------------------------------------
def test_a_professional_without_rpps_has_an_adeli_number():
	adeli = "".join(random.choices(string.digits, k=9))
	pro = make_professional(rpps=None, adeli=adeli, status="Candidate")
	assert pro.rpps is None and pro.adeli == adeli
	with pytest.raises(InvalidRPPSError, match="à défaut, saisissez le numéro ADELI"):
		make_professional(rpps="", status="Candidate")
	with pytest.raises(InvalidRPPSError, match="ADELI"):
		make_professional(rpps=None, adeli="1234", status="Candidate")


# --- Slots and templates point at a place -----------------------------------------------------------------------
def test_a_slot_without_a_place_takes_its_professionals_main_place():
	place = make_place()
	pro = make_professional(place=place.name)
	slot = make_slot(pro.name, future_start(days=12, hour=9))
	assert slot.place == place.name
	assert slot.location == label(place)


def test_a_slot_generated_from_a_template_takes_the_templates_place():
	home, other = make_place(), make_place(place_name="Centre de santé", city="Vertou", postal_code="44120")
	pro = make_professional(place=home.name)
	template = make_template(pro.name, place=other.name)
	assert template.location == label(other)
	created = generate_for_template(template, days=(next_weekday(0), next_weekday(0)))
	assert created
	for name in created:
		assert frappe.db.get_value("SNP Slot", name, ["place", "location"]) == (other.name, label(other))


def test_the_location_shown_follows_the_place_when_its_address_changes():
	place = make_place()
	slot = make_slot(make_professional().name, future_start(days=12, hour=9), place=place.name)
	place.address_line = "5 avenue de la Gare"
	place.save()
	assert frappe.db.get_value("SNP Slot", slot.name, "location") == label(place)


# --- Settings: the CPTS on the SAS platform ---------------------------------------------------------------------
def test_the_cpts_finess_and_phone_are_checked():
	settings = frappe.get_doc("SNP Settings")
	settings.cpts_finess = "12345"
	with pytest.raises(frappe.ValidationError, match="FINESS"):
		settings.save()
	settings.reload()
	settings.cpts_phone = "12 34"
	with pytest.raises(frappe.ValidationError, match="téléphone"):
		settings.save()
	settings.reload()
	settings.cpts_finess, settings.booking_base_url = "440054321", "https://snp.cpts-sud-loire.fr/"
	settings.save()
	assert settings.booking_base_url == "https://snp.cpts-sud-loire.fr"


# --- The patch: free-text locations become places -----------------------------------------------------------------
def legacy_slot(professional, day, hour, text):
	slot = make_slot(professional, future_start(days=day, hour=hour))
	frappe.db.set_value("SNP Slot", slot.name, {"place": None, "location": text}, update_modified=False)
	return slot.name


def test_the_patch_turns_legacy_locations_into_places_once():
	from cpts_snp.patches.v1_places_of_practice import execute

	suffix = unique_suffix(4)
	sector = make_sector(postal_code="44340", communes="Bouguenais\nLes Couëts")
	pro = make_professional(sector=sector.name).name
	lonely = make_professional().name  # his sector has no postal code: the place is left to complete
	frappe.db.set_value("SNP Professional", lonely, "sector", None)
	address = f"Maison de santé {suffix}, 3 rue des Lilas, 44400 Rezé"
	parsed = [legacy_slot(pro, 13, 9, address), legacy_slot(pro, 13, 10, address)]
	vague = legacy_slot(pro, 13, 11, f"Cabinet {suffix}, salle 2")
	unknown = legacy_slot(lonely, 13, 12, f"Chez moi {suffix}")
	template = make_template(pro)
	frappe.db.set_value("SNP Availability Template", template.name, "location", address)

	execute()

	place = frappe.get_doc("SNP Place", frappe.db.get_value("SNP Slot", parsed[0], "place"))
	assert (place.place_name, place.address_line, place.postal_code, place.city) == (
		f"Maison de santé {suffix}",
		"3 rue des Lilas",
		"44400",
		"Rezé",
	)
	assert {frappe.db.get_value("SNP Slot", name, "place") for name in parsed} == {place.name}
	assert frappe.db.get_value("SNP Availability Template", template.name, "place") == place.name
	assert frappe.db.get_value("SNP Slot", parsed[1], "location") == address

	from_sector = frappe.get_doc("SNP Place", frappe.db.get_value("SNP Slot", vague, "place"))
	assert (from_sector.place_name, from_sector.address_line) == (
		f"Cabinet {suffix}",
		f"Cabinet {suffix}, salle 2",
	)
	assert (from_sector.postal_code, from_sector.city, from_sector.sector) == (
		"44340",
		"Bouguenais",
		sector.name,
	)

	incomplete = frappe.get_doc("SNP Place", frappe.db.get_value("SNP Slot", unknown, "place"))
	assert incomplete.address_line == f"Chez moi {suffix}" and not incomplete.postal_code

	places = frappe.db.count("SNP Place")
	linked = frappe.db.get_value("SNP Slot", parsed[0], ["place", "location"])
	execute()
	assert frappe.db.count("SNP Place") == places
	assert frappe.db.get_value("SNP Slot", parsed[0], ["place", "location"]) == linked

	# markup in a legacy text does not reach the place's name (names with markup are refused)
	hostile = legacy_slot(pro, 14, 11, f"<b>Cabinet {suffix}</b>, 1 rue du Port, 44400 Rezé")
	execute()
	cleaned = frappe.get_doc("SNP Place", frappe.db.get_value("SNP Slot", hostile, "place"))
	assert (cleaned.place_name, cleaned.address_line) == (f"bCabinet {suffix}/b", "1 rue du Port")
	places += 1

	# a legacy record added later with the same text joins the same place
	late = legacy_slot(pro, 14, 9, address)
	execute()
	assert frappe.db.count("SNP Place") == places
	assert frappe.db.get_value("SNP Slot", late, "place") == place.name


# --- Demo data ---------------------------------------------------------------------------------------------------
def test_the_demo_doctors_practise_at_places_of_the_territory():
	from cpts_snp.demo import loader
	from cpts_snp.demo.places import PLACES

	loader.load()
	loader.load_finance(commit=False)
	demo = frappe.get_all(
		"SNP Place", filters={"place_name": ["in", [row[0] for row in PLACES]]}, fields=["*"]
	)
	assert len(demo) == 5
	assert any(p.finess for p in demo) and any(p.siret for p in demo)
	assert all(p.postal_code and p.city for p in demo)
	martin = frappe.get_doc("SNP Professional", {"user": "dr.martin@cpts-demo.fr"})
	assert martin.place and martin.sas_individual_sharing
	for row in loader.PROFESSIONALS:
		assert frappe.db.get_value("SNP Professional", {"rpps": row[2]}, "place")
	assert not frappe.db.count("SNP Slot", {"professional": martin.name, "place": ["is", "not set"]})
	assert frappe.db.get_single_value("SNP Settings", "cpts_finess")


# --- The portal: a doctor picks one of the CPTS's places ---------------------------------------------------------
@pytest.fixture
def doctor_with_places(committed):
	user, professional = committed.doctor()
	home, other = make_place(), make_place(place_name="Centre de santé " + unique_suffix(4), city="Vertou")
	closed = make_place(place_name="Ancien cabinet " + unique_suffix(4), active=0)
	frappe.db.set_value("SNP Professional", professional, "place", home.name)
	template = make_template(professional)
	frappe.db.commit()
	yield frappe._dict(
		user=user, professional=professional, home=home, other=other, closed=closed, template=template
	)
	frappe.db.rollback()
	frappe.db.delete("SNP Availability Template", {"professional": professional})
	frappe.db.delete("SNP Slot", {"professional": professional})
	frappe.db.delete("SNP Place", {"name": ["in", [home.name, other.name, closed.name]]})
	frappe.db.commit()


def publish(session, server, **args):
	return session.post(f"{server}/api/method/cpts_snp.api.portal.publish_slot", json=args)


def test_a_doctor_publishes_a_slot_at_a_place_of_the_cpts_chosen_in_the_portal(
	server, http_login, doctor_with_places
):
	world = doctor_with_places
	session = http_login(world.user)
	day = future_start(days=12, hour=9).date()
	page = session.get(f"{server}/snp/creneaux?semaine={day}").text
	assert 'name="place"' in page and 'name="location"' not in page
	assert f'<option value="{world.home.name}" selected>' in page  # his main place comes first
	assert world.other.name in page and world.closed.name not in page  # active places only
	assert frappe.utils.escape_html(label(world.other)) in page
	assert frappe.utils.escape_html(label(world.home)) in page  # his template's place, beside the template

	chosen = publish(session, server, starts_at=f"{day} 09:00:00", duration=20, place=world.other.name)
	assert chosen.ok, chosen.text
	default = publish(session, server, starts_at=f"{day} 10:00:00", duration=20)
	assert default.ok, default.text
	assert frappe.db.get_value("SNP Slot", chosen.json()["message"], ["place", "location"]) == (
		world.other.name,
		label(world.other),
	)
	assert frappe.db.get_value("SNP Slot", default.json()["message"], "place") == world.home.name

	for place in (world.closed.name, "LIEU-99999"):
		refused = publish(session, server, starts_at=f"{day} 11:00:00", duration=20, place=place)
		assert refused.status_code == 417, refused.text
		assert "Choisissez l'un des lieux d'exercice de la CPTS" in refused.text
	assert not frappe.db.exists(
		"SNP Slot", {"professional": world.professional, "starts_at": f"{day} 11:00:00"}
	)


def test_a_doctors_profile_shows_his_main_place(server, http_login, doctor_with_places):
	page = http_login(doctor_with_places.user).get(f"{server}/snp/profil").text
	assert frappe.utils.escape_html(label(doctor_with_places.home)) in page


def test_the_coordination_finds_the_places_on_the_workspace():
	workspace = frappe.get_doc("Workspace", "Soins non programmés")
	assert "SNP Place" in {row.link_to for row in workspace.links}
