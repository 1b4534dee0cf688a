#!/usr/bin/env bash
# `make run`: setup, then start the bench (web, socketio, workers, scheduler, redis) in the foreground.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

cat <<MSG

  cpts_snp is starting on http://localhost:$WEB_PORT  (desk: /app, doctors' portal: /snp)

  Administrator      Administrator / $ADMIN_PASSWORD
  Coordinatrice      coordination@cpts-demo.fr / demo-cpts-2026
  Télésecrétaire     telesecretariat@cpts-demo.fr / demo-cpts-2026
  Médecin            dr.martin@cpts-demo.fr / demo-cpts-2026   (portail : /snp)
  Comptable          comptabilite@cpts-demo.fr / demo-cpts-2026
  Trésorière         tresorerie@cpts-demo.fr / demo-cpts-2026
  Partenaire SAS     sas44@cpts-demo.fr / demo-cpts-2026   (réserve ; API et FHIR : /fhir/Slot)
  Urgences CHU       urgences.chu@cpts-demo.fr / demo-cpts-2026   (consultation des créneaux)

  Stop with Ctrl+C.
MSG
cd "$ROOT"
release_setup_lock  # the running bench must not keep other `make` commands waiting
exec bench start
