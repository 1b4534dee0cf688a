import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime

from cpts_snp.exceptions import SupervisionError
from cpts_snp.rules.supervision import is_valid_shift
from cpts_snp.services.late_declaration import check_declared_in_time
from cpts_snp.services.naming import set_name


class SNPSupervisionShift(Document):
	def autoname(self):
		set_name(self)

	def validate(self):
		if not is_valid_shift(get_datetime(self.starts_at), get_datetime(self.ends_at)):
			frappe.throw(_("A supervision shift ends after it starts, on the same day"), SupervisionError)
		if not frappe.db.get_value("SNP Professional", self.supervisor, "is_supervisor"):
			frappe.throw(
				_("{0} is not a maître de stage and cannot declare supervision shifts").format(
					frappe.db.get_value("SNP Professional", self.supervisor, "full_name") or self.supervisor
				),
				SupervisionError,
			)
		# Shortening a shift that has started (the supervisor leaves earlier) stays his own business.
		check_declared_in_time(self, ("starts_at", "ends_at", "supervisor"), allow_shortening=True)
