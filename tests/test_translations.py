"""The UI speaks French: every user-facing string of the app (doctype labels, options, messages in Python and
JavaScript) has a French translation, and the site serves it."""

import frappe
from frappe import _
from frappe.translate import get_all_translations, get_messages_for_app


def test_every_string_of_the_app_has_a_french_translation():
	translations = get_all_translations("fr")
	missing = sorted(
		{
			entry[1]
			for entry in get_messages_for_app("cpts_snp")
			if entry[1] not in translations
			and not (len(entry) > 2 and entry[2] and f"{entry[1]}:{entry[2]}" in translations)
		}
	)
	assert not missing, "Add these strings to cpts_snp/locale/fr.po:\n" + "\n".join(missing)


def test_statuses_and_doctypes_read_in_french():
	frappe.local.lang = "fr"
	assert _("SNP Slot") == "Créneau SNP"
	assert [_(s) for s in ("Available", "Booked", "Honoured", "No-show", "Cancelled")] == [
		"Disponible",
		"Réservé",
		"Honoré",
		"Non honoré",
		"Annulé",
	]


def test_amounts_in_euros_read_the_french_way():
	from frappe.utils import fmt_money

	assert fmt_money(1234.5, currency="EUR") == "1 234,50 €"
	assert frappe.db.get_value("Currency", "EUR", ["number_format", "symbol_on_right"]) == ("# ###,##", 1)


def test_the_desk_strings_frappe_leaves_in_english_read_in_french():
	translations = get_all_translations("fr")
	assert translations["Search or type a command ({0})"] == "Rechercher ou saisir une commande ({0})"
	assert translations["Type a reply / comment"] == "Saisir une réponse / un commentaire"
