from cpts_snp.permissions import ChildRow
from cpts_snp.services.meetings import check_participant_row


class SNPMeetingParticipant(ChildRow):
	def validate(self):
		check_participant_row(self)

	def on_trash(self):
		check_participant_row(self)
