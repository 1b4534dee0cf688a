# cpts_snp — the two commands of the README.
#   make run    set everything up (idempotent) and start desk + portal on http://localhost:8000 with demo data
#   make test   build what is missing, refresh the test site and run the whole test suite
.PHONY: setup run test test-long bench production production-stop add-site backup restore

setup:
	@bash scripts/setup.sh

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh $(ARGS)

# nginx (TLS) in front of gunicorn, socketio, workers and scheduler, all supervised (README « Production »)
production:
	@bash scripts/production.sh

production-stop:
	@bash scripts/production.sh stop

# Backups (README « Backup and recovery procedure »): every site, rotated, off-site copy with restic
#   make backup
#   make restore SITE=cpts.localhost [SNAPSHOT=<restic id>|<local set folder>] [TO=restored.localhost]
backup:
	@bash scripts/backup.sh

restore:
	@bash scripts/backup.sh restore "$(SITE)" $(SNAPSHOT) $(if $(TO),--to "$(TO)")

# One more CPTS on this bench, served by its host name (README « Plusieurs CPTS sur un bench »):
#   make add-site NAME=cpts-nord.example.fr [DEMO=1] [ADMIN_PASSWORD=…]
add-site:
	@bash scripts/add_site.sh "$(NAME)"

# The long proofs at full size (1,000 concurrent bookings, crash and restore drills); `make test` runs them reduced
test-long:
	@CPTS_LONG=1 bash scripts/test.sh tests/long $(ARGS)

# Benchmarks (speed and query-count targets; not part of `make test`)
bench:
	@bash scripts/bench.sh
