"""Backup and restore drill: `bench backup` of a site, restored into a new site, gives the same number of
records for every cpts_snp doctype, and naming sequences that go on after the restored names (the CPTS's recovery
procedure, see the README)."""

import json
import subprocess
from pathlib import Path

import frappe

ROOT = Path(__file__).resolve().parents[2]
DRILL_SITE = "restore-drill.localhost"


def bench(*args: str) -> str:
	result = subprocess.run(
		[str(ROOT / ".bench-tools" / "bin" / "bench"), *args], cwd=ROOT, capture_output=True, text=True,
		stdin=subprocess.DEVNULL, timeout=600,
	)
	assert result.returncode == 0, result.stdout + result.stderr
	return result.stdout + result.stderr


def record_counts(site: str) -> dict[str, int]:
	out = bench("--site", site, "execute", "cpts_snp.setup.drill.record_counts")
	return json.loads(out.strip().splitlines()[-1])


def test_a_backup_restored_into_a_new_site_has_every_record(committed):
	committed.professional()  # at least one fresh record of ours
	frappe.db.commit()
	site = frappe.local.site
	password = (ROOT / ".state" / "db_admin_password").read_text().strip()
	user = (ROOT / ".state" / "db_admin_user").read_text().strip()
	root_login = ["--db-root-username", user, "--db-root-password", password]
	before = record_counts(site)
	bench("--site", site, "backup")
	backups = sorted((ROOT / "sites" / site / "private" / "backups").glob("*-database.sql.gz"), key=lambda p: p.stat().st_mtime)
	try:
		bench("new-site", DRILL_SITE, "--force", "--no-mariadb-socket", *root_login, "--admin-password", "drill",
			"--source-sql", str(backups[-1]))
		after = record_counts(DRILL_SITE)
		assert before == after
		# the restored naming sequences go on after the restored names: no new record reuses a name
		behind = bench("--site", DRILL_SITE, "execute", "cpts_snp.setup.drill.sequences_behind")
		assert json.loads(behind.strip().splitlines()[-1]) == []
		assert before["SNP Professional"] >= 1 and len(before) >= 15
	finally:
		subprocess.run([str(ROOT / ".bench-tools" / "bin" / "bench"), "drop-site", DRILL_SITE, "--force", "--no-backup",
			*root_login], cwd=ROOT, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
