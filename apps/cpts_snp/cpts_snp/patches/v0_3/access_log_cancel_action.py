"""Sites set up before: the partner access log's cancellations read « Rendez-vous annulé » (the action was
« Cancel », shown with Frappe's verb « Annuler » among nouns)."""

import frappe


def execute():
	frappe.db.sql(
		"UPDATE `tabSNP Partner Access Log` SET `action` = 'Booking cancelled' WHERE `action` = 'Cancel'"
	)
