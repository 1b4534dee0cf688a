"""Daily backups with an off-site copy (scripts/backup.sh, restic) and the restore drill on the production stack.

The test site is backed up (database, public and private files, site config) into a local restic repository
standing for the off-site one; the snapshot holds the database dump and the files, encrypted; rotation keeps the
configured days locally and off-site, each site on its own. The drill: the snapshot restored into a new site, that
site served by the production stack (scripts/production.sh, with its supervised backup timer); a record and a
private file deleted through HTTPS; the site restored in place from its own snapshot while the stack runs; the
record and the file are back through HTTPS.
"""

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import frappe
import pytest
from cpts_snp.tests.factories import make_professional, make_user, unique_suffix

ROOT = Path(__file__).resolve().parent.parent
DRILL_SITE = "backup-drill.localhost"

pytestmark = pytest.mark.skipif(
	not (shutil.which("restic") and shutil.which("nginx") and shutil.which("supervisord")),
	reason="restic, nginx and supervisor are installed by make setup",
)


def _backup(env, *args, timeout=300) -> str:
	"""scripts/backup.sh ARGS; returns its output (fails the test on a non-zero exit)."""
	done = subprocess.run(
		["bash", "scripts/backup.sh", *args],
		cwd=ROOT,
		env=env,
		capture_output=True,
		text=True,
		timeout=timeout,
		stdin=subprocess.DEVNULL,
		check=False,
	)
	assert done.returncode == 0, done.stdout + done.stderr
	return done.stdout + done.stderr


def _functions(env, *steps) -> str:
	command = "source scripts/production.sh && production_settings && backup_settings && " + " && ".join(
		steps
	)
	done = subprocess.run(
		["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
	)
	assert done.returncode == 0, done.stdout + done.stderr
	return done.stdout


def _restic(env, *args) -> bytes:
	done = subprocess.run(
		["restic", "--quiet", *args], env=env, capture_output=True, timeout=120, check=False
	)
	assert done.returncode == 0, done.stderr.decode()
	return done.stdout


def _snapshots(env, site) -> list[dict]:
	return json.loads(_restic(env, "snapshots", "--json", "--tag", f"site:{site}")) or []


def _files_of(env, snapshot_id) -> list[str]:
	return [line for line in _restic(env, "ls", snapshot_id).decode().splitlines() if line.startswith("/")]


def _root_login() -> list[str]:
	state = ROOT / ".state"
	return [
		"--db-root-username",
		(state / "db_admin_user").read_text().strip(),
		"--db-root-password",
		(state / "db_admin_password").read_text().strip(),
	]


def _drop_drill_site(folder: Path):
	if (ROOT / "sites" / DRILL_SITE).exists():
		subprocess.run(
			[str(ROOT / ".bench-tools" / "bin" / "bench"), "drop-site", DRILL_SITE, "--force", "--no-backup"]
			+ _root_login()
			+ ["--archived-sites-path", str(folder / "archived")],
			cwd=ROOT,
			capture_output=True,
			stdin=subprocess.DEVNULL,
			timeout=300,
			check=False,
		)


@pytest.fixture(scope="module")
def world():
	"""A temporary folder with the local backups, the "remote" restic repository and its password; a committed
	marker in the test site: a professional, a private file, a System Manager who logs in through HTTPS."""
	folder = Path(tempfile.mkdtemp(prefix="cpts-backups-"))
	folder.chmod(0o755)  # nginx's workers (the production stack below) read their temporary files
	password = folder / "restic-password"
	password.write_text("drill-" + unique_suffix(16))
	password.chmod(0o600)
	site = frappe.local.site
	env = {
		key: value
		for key, value in os.environ.items()
		if not key.startswith(("RESTIC_", "BACKUP_", "AWS_", "PROD_", "TLS_", "SAS_MTLS_"))
	}
	env.update(
		{
			"BACKUP_ENV_FILE": str(folder / "backup.env"),  # absent: only these variables count
			"BACKUP_SITES": site,
			"BACKUP_DIR": str(folder / "backups"),
			"BACKUP_KEEP_DAILY": "2",
			"BACKUP_KEEP_WEEKLY": "0",
			"BACKUP_KEEP_MONTHLY": "0",
			"BACKUP_TIME": (datetime.now() + timedelta(hours=12)).strftime("%H:%M"),
			"RESTIC_REPOSITORY": str(folder / "remote"),
			"RESTIC_PASSWORD_FILE": str(password),
			"RESTIC_CACHE_DIR": str(folder / "restic-cache"),
			# the production stack of the drill (never the checkout's own config/)
			"PROD_CONFIG_DIR": str(folder / "config"),
			"PROD_LOG_DIR": str(folder / "logs"),
		}
	)
	professional = make_professional().name
	user = make_user(roles=["System Manager"], desk_user=True)
	content = f"compte rendu {unique_suffix(12)}"
	frappe.set_user(user)  # his own private file: he downloads it
	attachment = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"drill-{unique_suffix()}.txt",
			"content": content.encode(),
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	frappe.set_user("Administrator")
	frappe.db.commit()
	try:
		yield frappe._dict(
			folder=folder,
			env=env,
			site=site,
			professional=professional,
			user=user,
			file=attachment.name,
			file_url=attachment.file_url,
			file_name=attachment.file_name,
			content=content,
		)
	finally:
		_drop_drill_site(folder)
		frappe.db.rollback()
		frappe.delete_doc("File", attachment.name, force=True, ignore_permissions=True)
		frappe.db.delete("SNP Professional Sector", {"parent": professional})
		frappe.db.delete("SNP Professional", professional)
		frappe.delete_doc("User", user, force=True, ignore_permissions=True)
		frappe.db.commit()
		shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def first_backup(world):
	"""The daily backup, run once for the module (the repository is initialised by it)."""
	return _backup(world.env)


def test_the_daily_backup_puts_the_database_and_the_files_off_site_encrypted(world, first_backup):
	assert "RESTIC_REPOSITORY is not set" not in first_backup
	(snapshot,) = _snapshots(world.env, world.site)
	files = _files_of(world.env, snapshot["id"])
	names = [Path(path).name for path in files]
	for suffix in ("-database.sql.gz", "-files.tar", "-private-files.tar", "-site_config_backup.json"):
		assert any(name.endswith(suffix) for name in names), (suffix, names)

	# the database dump holds the marker, the private files' archive the private file with its content
	dump = next(path for path in files if path.endswith("-database.sql.gz"))
	assert world.professional.encode() in gzip.decompress(_restic(world.env, "dump", snapshot["id"], dump))
	archive = next(path for path in files if path.endswith("-private-files.tar"))
	with tarfile.open(fileobj=io.BytesIO(_restic(world.env, "dump", snapshot["id"], archive))) as tar:
		member = next(m for m in tar.getmembers() if m.name.endswith(f"/private/files/{world.file_name}"))
		assert tar.extractfile(member).read().decode() == world.content

	# the off-site copy is encrypted: the file's text is nowhere in the repository
	for path in (world.folder / "remote").rglob("*"):
		if path.is_file():
			assert world.content.encode() not in path.read_bytes(), path
	# the local copy is the site's own, readable by its owner only
	(local,) = [p for p in (world.folder / "backups" / world.site).iterdir() if not p.name.startswith(".")]
	assert (world.folder / "backups").stat().st_mode & 0o077 == 0
	assert any(p.name.endswith("-database.sql.gz") for p in local.iterdir())


def test_rotation_keeps_the_configured_days_locally_and_off_site_site_by_site(world, first_backup):
	site_dir = world.folder / "backups" / world.site
	(today,) = [p.name for p in site_dir.iterdir() if not p.name.startswith(".")]
	(first,) = _snapshots(world.env, world.site)
	now = datetime.strptime(today, "%Y%m%d_%H%M%S")
	days = [(now - timedelta(days=n)) for n in (3, 5, 9)]
	old_sets = [d.strftime("%Y%m%d_023000") for d in days] + [days[0].strftime("%Y%m%d_013000")]
	for name in old_sets:
		(site_dir / name).mkdir()
		(site_dir / name / "x-database.sql.gz").write_bytes(gzip.compress(b"old"))
	old = world.folder / "old"
	old.mkdir()
	(old / "x-database.sql.gz").write_bytes(gzip.compress(b"old"))
	for day, site in ((days[0], world.site), (days[1], world.site), (days[2], "other-cpts.localhost")):
		moment = day.strftime("%Y-%m-%d 02:30:00")
		_restic(world.env, "backup", "--tag", "cpts-snp", "--tag", f"site:{site}", "--time", moment, str(old))

	_functions(world.env, f"rotate_local_sets {world.site}", "offsite_forget")

	# 2 days kept (BACKUP_KEEP_DAILY): today's set and the newest set of the latest day before
	assert sorted(p.name for p in site_dir.iterdir() if not p.name.startswith(".")) == sorted(
		[today, old_sets[0]]
	)
	kept = _snapshots(world.env, world.site)
	assert sorted(s["time"][:10] for s in kept) == sorted([days[0].strftime("%Y-%m-%d"), first["time"][:10]])
	# another site's snapshots follow their own rotation: its only one stays
	assert len(_snapshots(world.env, "other-cpts.localhost")) == 1
	assert "no errors were found" in _backup(world.env, "check")


def _wait_until_answering(stack, timeout=90):
	deadline = datetime.now() + timedelta(seconds=timeout)
	while not stack.answers():
		assert datetime.now() < deadline, "the production stack does not answer after the restore"
		time.sleep(0.5)


def test_restore_drill_on_the_production_stack(world, first_backup):
	from test_production_stack import Stack

	# 1. the off-site snapshot restored into a new site (the recovery, checked before switching anything), then
	# migrated to this bench's code as a real recovery does (restore's default: the backup may predate an update;
	# measured: +~10 s here, +~20 s for the in-place restore below, both kept in `make test`)
	out = _backup(world.env, "restore", world.site, "--to", DRILL_SITE, timeout=900)
	assert f"Site {DRILL_SITE} restored" in out
	assert f"Migrating {DRILL_SITE} to the code of this bench" in out
	migrate_log = ROOT / "logs" / f"migrate-{DRILL_SITE}.log"
	assert migrate_log.stat().st_mtime > time.time() - 900
	drill_conf = json.loads((ROOT / "sites" / DRILL_SITE / "site_config.json").read_text())
	# the backup's encryption key came along: the secrets stored encrypted stay readable
	assert drill_conf["encryption_key"] == frappe.local.conf.encryption_key
	assert drill_conf["db_name"] != frappe.local.conf.db_name

	# 2. that site served by the production stack, its daily backup timer supervised
	stack = Stack(world.folder)
	stack.env.update({**world.env, "PROD_SITE": DRILL_SITE, "BACKUP_SITES": DRILL_SITE})
	drill_env = stack.env
	try:
		_functions(drill_env, "render_backup_schedule")
		stack.up()
		stack.ctl("stop", "cpts-workers:cpts-frappe-schedule")  # its first tick would visit every site
		status = stack.ctl("status", "cpts-backup:cpts-backup-timer")
		assert "RUNNING" in status, status
		timer = (world.folder / "config" / "systemd" / "cpts-snp-backup.timer").read_text()
		assert f"OnCalendar=*-*-* {world.env['BACKUP_TIME']}:00" in timer

		session = stack.login(world.user)
		record = f"/api/resource/SNP Professional/{world.professional}"
		assert stack.get(record, session).json()["data"]["name"] == world.professional
		assert stack.get(world.file_url, session).text == world.content

		# 3. the drill site's own daily backup, then the incident: the record and the file deleted
		_backup(drill_env)
		assert len(_snapshots(drill_env, DRILL_SITE)) == 1
		assert session.delete(f"{stack.base}{record}", verify=stack.ca, timeout=60).ok
		file_record = f"{stack.base}/api/resource/File/{world.file}"
		assert session.delete(file_record, verify=stack.ca, timeout=60).ok
		assert stack.get(record, session).status_code == 404
		assert stack.get(world.file_url, session).status_code in (403, 404)

		# 4. restored in place from the latest snapshot while the stack runs (web and workers restarted)
		out = _backup(drill_env, "restore", DRILL_SITE, timeout=900)
		assert "Restarting the web server" in out
		_wait_until_answering(stack)
		session = stack.login(world.user)
		assert stack.get(record, session).json()["data"]["name"] == world.professional
		assert stack.get(world.file_url, session).text == world.content
		# the state just before the restore was kept aside
		assert any(p.name.endswith("-pre-restore") for p in (world.folder / "backups" / DRILL_SITE).iterdir())
	finally:
		stack.down()
