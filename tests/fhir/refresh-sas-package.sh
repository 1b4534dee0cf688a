#!/usr/bin/env bash
# Rewrites tests/fhir/sas-1.2.0/ from the compiled package of the SAS FHIR guide (ans.fhir.fr.sas 1.2.0).
#
# Usage: tests/fhir/refresh-sas-package.sh [IG_GIT_DIR]
#   IG_GIT_DIR: a clone (or bare mirror) of https://github.com/ansforge/IG-fhir-service-acces-aux-soins;
#   default: a shallow clone of its gh-pages branch in a temporary directory.
# The package is `main/ig/package.tgz` of the gh-pages branch, produced by the guide's own CI (SUSHI + IG
# Publisher: StructureDefinitions with snapshots, fr-core constraints merged). The script refuses any package
# that is not ans.fhir.fr.sas 1.2.0, then keeps what tests/fhir_conformance.py needs (see tests/fhir/README.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$HERE/sas-1.2.0
WANT_NAME=ans.fhir.fr.sas
WANT_VERSION=1.2.0
IG_URL=https://github.com/ansforge/IG-fhir-service-acces-aux-soins

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

IG_GIT_DIR=${1:-}
if [ -z "$IG_GIT_DIR" ]; then
	git clone -q --depth 1 --branch gh-pages --single-branch "$IG_URL" "$WORK/ig"
	IG_GIT_DIR=$WORK/ig
fi

ref=
for candidate in gh-pages origin/gh-pages refs/remotes/origin/gh-pages; do
	if git -C "$IG_GIT_DIR" rev-parse -q --verify "$candidate:main/ig/package.tgz" >/dev/null; then
		ref=$candidate
		break
	fi
done
[ -n "$ref" ] || { echo "no gh-pages:main/ig/package.tgz in $IG_GIT_DIR" >&2; exit 1; }
commit=$(git -C "$IG_GIT_DIR" rev-parse "$ref")
git -C "$IG_GIT_DIR" show "$ref:main/ig/package.tgz" >"$WORK/package.tgz"
tar -xzf "$WORK/package.tgz" -C "$WORK"
PKG=$WORK/package

python3 - "$PKG/package.json" "$WANT_NAME" "$WANT_VERSION" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
if (meta.get("name"), meta.get("version")) != (sys.argv[2], sys.argv[3]):
	sys.exit(f"package.json says {meta.get('name')} {meta.get('version')}, expected {sys.argv[2]} {sys.argv[3]}")
if meta.get("fhirVersions") != ["4.0.1"]:
	sys.exit(f"unexpected fhirVersions {meta.get('fhirVersions')}")
PY

rm -rf "$DEST"
mkdir -p "$DEST/example"
cp "$PKG/package.json" "$DEST/"
cp "$PKG"/StructureDefinition-*.json "$PKG"/ValueSet-*.json "$PKG"/CodeSystem-*.json "$PKG"/SearchParameter-*.json "$DEST/"
for cs in SAS-GestionnaireAgenda-CPTS SAS-GestionnaireAgenda-PsIndiv SAS-GestionnaireAgenda-RDVpsindiv; do
	cp "$PKG/CapabilityStatement-$cs.json" "$DEST/"
done
# Examples of the CPTS, PS indiv and appointment flows: everything but the SOS and regulator ones.
python3 - "$PKG/example" "$DEST/example" <<'PY'
import json, pathlib, shutil, sys
src, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
keep = {"Bundle", "Slot", "Schedule", "Practitioner", "PractitionerRole", "HealthcareService", "Organization", "Location", "Appointment"}
for path in sorted(src.glob("*.json")):
	res = json.loads(path.read_text())
	profiles = " ".join(res.get("meta", {}).get("profile", [])).lower()
	if res.get("resourceType") in keep and "sos" not in profiles and "regul" not in profiles:
		shutil.copy(path, dest / path.name)
PY
printf '%s\n' "$commit" >"$DEST/SOURCE-COMMIT"
echo "tests/fhir/sas-1.2.0 rewritten from $IG_URL gh-pages $commit"
