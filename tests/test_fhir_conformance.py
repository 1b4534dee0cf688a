"""The validator of tests/fhir_conformance.py against the SAS guide itself (ans.fhir.fr.sas 1.2.0).

Pure Python (no site): the guide's own examples conform, and answers breaking one rule of the guide's profiles
are refused with that rule named.
"""

import copy
import json
import time

import fhir_conformance as fc  # tests/ is on pytest's pythonpath (pytest.ini)
import pytest

EXAMPLES = fc.SAS_DIR / "example"
SAS = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/"
CPTS_BUNDLE = SAS + "sas-cpts-bundle-aggregator"
CPTS_SLOT = SAS + "sas-cpts-slot-aggregator"
CPTS_ORGANIZATION = SAS + "sas-cpts-organization-aggregator"
PRACTITIONER = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
PRACTITIONER_ROLE = "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"


def example(name: str) -> dict:
	return json.loads((EXAMPLES / f"{name}.json").read_text())


def errors_naming(errors: list[str], rule: str, where: str = "") -> list[str]:
	return [e for e in errors if f"[{rule}]" in e and where in e]


def test_the_reference_package_is_the_guide_1_2_0():
	meta = json.loads((fc.SAS_DIR / "package.json").read_text())
	assert (meta["name"], meta["version"], meta["fhirVersions"]) == ("ans.fhir.fr.sas", "1.2.0", ["4.0.1"])
	assert meta["dependencies"]["hl7.fhir.fr.core"] == "1.1.0"
	sd = json.loads((fc.SAS_DIR / "StructureDefinition-sas-cpts-slot-aggregator.json").read_text())
	assert sd["snapshot"]["element"], "the published StructureDefinitions carry snapshots"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_of_the_guide_conforms_to_its_declared_profile(path):
	resource = json.loads(path.read_text())
	assert resource["meta"]["profile"]
	fc.assert_conforms(resource)


def test_the_examples_cover_the_cpts_ps_indiv_and_appointment_flows():
	profiles = {
		p for path in EXAMPLES.glob("*.json") for p in json.loads(path.read_text())["meta"]["profile"]
	}
	for wanted in (
		CPTS_BUNDLE,
		CPTS_SLOT,
		CPTS_ORGANIZATION,
		SAS + "sas-cpts-healthcareservice-aggregator",
		"http://sas.fr/fhir/StructureDefinition/BundleAgregateur",
		"http://sas.fr/fhir/StructureDefinition/FrSlotAgregateur",
		"http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur",
		PRACTITIONER,
		PRACTITIONER_ROLE,
		"http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS",
	):
		assert wanted in profiles


# --- answers that break one rule ----------------------------------------------------------------------------
def test_a_cpts_slot_must_be_free():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["status"] = "busy"
	errors = fc.validate(slot)
	assert errors_naming(errors, "pattern", "Slot/ExampleSlotCPTS1.status"), errors


def test_a_slot_type_outside_the_required_valueset_is_refused():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["meta"]["security"] = [
		{
			"system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
			"code": "FOO",
		}
	]
	errors = fc.validate(slot)
	assert errors_naming(errors, "binding", "meta.security[0]"), errors
	assert "sas-cpts-valueset-typecreneau" in errors_naming(errors, "binding")[0]


def test_the_cpts_slot_type_codes_of_the_guide_are_accepted():
	slot = example("Slot-ExampleSlotCPTS1")
	system = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
	slot["meta"]["security"] = [{"system": system, "code": code} for code in ("PUBLIC", "PRO", "SNP", "CPTS")]
	fc.assert_conforms(slot)


def test_a_slot_appointment_type_outside_the_guide_reasons_is_refused():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["appointmentType"] = {
		"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "EMERGENCY"}]
	}
	assert errors_naming(fc.validate(slot), "binding", "appointmentType.coding[0]")


def test_a_slot_without_start_misses_a_required_element():
	slot = example("Slot-ExampleSlotCPTS1")
	del slot["start"]
	assert errors_naming(fc.validate(slot), "cardinality", "Slot/ExampleSlotCPTS1.start")


def test_an_element_unknown_to_fhir_is_refused():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["doctorName"] = "Dr Foret"
	slot["meta"]["flavour"] = "x"
	errors = fc.validate(slot)
	assert errors_naming(errors, "structure", ".doctorName")
	assert errors_naming(errors, "structure", "meta.flavour")


def test_json_shapes_and_primitive_formats_are_checked():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["start"] = "2024-06-12 16:40"  # an instant needs T, seconds and a zone
	slot["end"] = "2024-06-12T17:00:00"  # no zone
	slot["id"] = "not an id!"
	slot["overbooked"] = "false"
	slot["serviceType"] = slot["serviceType"][0]  # 0..* must be an array
	errors = fc.validate(slot)
	for where in (".start", ".end", ".id", ".overbooked"):
		assert errors_naming(errors, "type", where), (where, errors)
	assert errors_naming(errors, "structure", ".serviceType")


def test_a_choice_element_of_a_type_not_allowed_is_unknown():
	slot = example("Slot-ExampleSlotCPTS1")
	ext = next(st for st in slot["serviceType"] if st.get("extension"))["extension"][0]
	ext["valueString"] = ext.pop("valueReference")["reference"]
	assert errors_naming(fc.validate(slot), "structure", "valueString")


def test_an_organization_finess_must_be_1_and_nine_digits():
	org = example("Organization-ExampleOrgaCPTS1")
	org["identifier"][0]["value"] = "123"
	errors = fc.validate(org)
	assert errors_naming(errors, "FINESS-invariant", "identifier[0]"), errors


def test_a_practitioner_role_must_contain_its_location():
	role = example("PractitionerRole-ExamplePractitionerRoleAgregateur")
	del role["contained"]
	errors = fc.validate(role)
	assert errors_naming(errors, "cardinality", ".contained"), errors
	# its location reference now points at nothing contained
	assert errors_naming(errors, "ref-1", ".location"), errors


def test_a_contained_location_without_postal_code_is_refused():
	role = example("PractitionerRole-ExamplePractitionerRoleAgregateur")
	location = role["contained"][0]
	assert location["resourceType"] == "Location"
	del location["address"]["postalCode"]
	errors = fc.validate(role)
	assert errors_naming(errors, "cardinality", "address.postalCode"), errors


def test_a_contained_location_is_checked_against_the_reference_target_profile():
	role = example("PractitionerRole-ExamplePractitionerRoleAgregateur")
	location = role["contained"][0]
	location.pop("meta", None)  # no declared profile: the target profile of PractitionerRole.location applies
	del location["address"]["postalCode"]
	assert errors_naming(fc.validate(role), "cardinality", "address.postalCode")


def test_a_practitioner_identifier_must_be_typed_idnps():
	practitioner = example("Practitioner-ExamplePractitioner")
	practitioner["identifier"][0]["type"] = {
		"coding": [{"system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203", "code": "INTRN"}]
	}
	errors = fc.validate(practitioner)
	assert errors_naming(errors, "pattern", "identifier[0].type"), errors


def test_a_bundle_without_link_is_refused():
	bundle = example("Bundle-ExampleBundleCPTS1")
	del bundle["link"]
	assert errors_naming(fc.validate(bundle), "cardinality", "Bundle/ExampleBundleCPTS1.link")


def test_a_cpts_bundle_entry_without_meta_profile_is_refused():
	bundle = example("Bundle-ExampleBundleCPTS1")
	del bundle["entry"][0]["resource"]["meta"]["profile"]
	errors = fc.validate(bundle)
	assert errors_naming(errors, "guide: meta.profile", "Bundle.entry[0].resource(Slot/"), errors


def test_a_cpts_bundle_without_slot_misses_its_slot_slice():
	bundle = example("Bundle-ExampleBundleCPTS1")
	bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Slot"]
	bundle["total"] = 0
	errors = fc.validate(bundle)
	assert errors_naming(errors, "cardinality", "entry:slotAgregateurCPTS"), errors


def test_a_bundle_entry_is_validated_against_its_slice_profile():
	bundle = example("Bundle-ExampleBundleCPTS1")
	slot = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot")
	slot["status"] = "busy"
	bundle["entry"][1].pop("fullUrl")
	errors = fc.validate(bundle)
	assert errors_naming(errors, "pattern", "resource(Slot/"), errors
	assert errors_naming(errors, "cardinality", "entry[1].fullUrl"), errors


def test_a_resource_declaring_none_of_the_guide_profiles_is_an_error():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["meta"]["profile"] = ["http://hl7.org/fhir/StructureDefinition/Slot"]
	assert errors_naming(fc.validate(slot), "guide: meta.profile")
	del slot["meta"]["profile"]
	assert errors_naming(fc.validate(slot), "guide: meta.profile")
	# an explicit profile validates it all the same
	assert fc.validate(slot, CPTS_SLOT) == []


def test_assert_conforms_lists_every_error():
	slot = example("Slot-ExampleSlotCPTS1")
	slot["status"] = "busy"
	del slot["end"]
	with pytest.raises(AssertionError) as raised:
		fc.assert_conforms(slot)
	assert "2 conformance error(s)" in str(raised.value)
	assert ".status" in str(raised.value) and ".end" in str(raised.value)


def test_validation_does_not_change_the_resource():
	bundle = example("Bundle-ExampleBundleCPTS1")
	before = copy.deepcopy(bundle)
	fc.validate(bundle)
	assert bundle == before


def test_an_invariant_fhirpathpy_cannot_evaluate_is_a_setup_error():
	node = fc._registry().sd(CPTS_SLOT).root
	fake = fc._Node(
		{**node.el, "constraint": [{"key": "x-1", "severity": "error", "expression": "htmlChecks()"}]},
		node.sd,
	)
	with pytest.raises(fc.ConformanceSetupError, match="x-1"):
		fc._check_constraints(fake, {}, "Slot", fc._Ctx(), {"resourceType": "Slot"})


def test_a_200_entry_bundle_validates_well_under_a_second():
	bundle = example("Bundle-ExampleBundleCPTS1")
	slot_entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot")
	for i in range(200 - len(bundle["entry"])):
		entry = copy.deepcopy(slot_entry)
		entry["resource"]["id"] = f"slot-{i}"
		entry["fullUrl"] = entry["fullUrl"].rsplit("/", 1)[0] + f"/slot-{i}"
		bundle["entry"].append(entry)
	bundle["total"] = sum(1 for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot")
	fc.validate(bundle)  # definitions loaded and expressions compiled once
	timings = []
	for _ in range(3):  # the best of three: the suite shares its CPUs
		fc._RESULTS.clear()
		started = time.perf_counter()
		errors = fc.validate(bundle)
		timings.append(time.perf_counter() - started)
		assert errors == []
	assert min(timings) < 0.8, f"{min(timings):.2f} s for 200 entries"


def test_the_python_ele_1_agrees_with_fhirpathpy():
	"""ele-1 is computed in Python for speed (NATIVE_INVARIANTS): same answer as its FHIRPath expression."""
	import fhirpathpy
	from fhirpathpy.engine.nodes import ResourceNode
	from fhirpathpy.models import models

	expression = "hasValue() or (children().count() > id.count())"
	compiled = fhirpathpy.compile(expression, models["r4"], fc._FHIRPATH_OPTIONS)
	samples = [
		({"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810002909371"}, "Identifier"),
		({"id": "a"}, "Identifier"),
		({}, "Meta"),
		({"extension": [{"url": "http://example.org/x", "valueString": "y"}]}, "Period"),
		({"coding": []}, "CodeableConcept"),
		({"id": "x", "coding": [{"code": "AMB"}]}, "CodeableConcept"),
	]
	for path in EXAMPLES.glob("Slot-*.json"):
		slot = json.loads(path.read_text())
		samples += [(slot["meta"], "Meta"), (slot["schedule"], "Reference")]
		samples += [(st, "CodeableConcept") for st in slot.get("serviceType", [])]
	for value, type_name in samples:
		expected = compiled(ResourceNode.create_node(value, type_name), {}) == [True]
		assert fc.NATIVE_INVARIANTS["ele-1"](value) is expected, (value, expected)
	for primitive in ("free", "2024-06-12T16:40:00+02:00", True, 0):
		assert compiled(primitive, {}) == [True] and fc.NATIVE_INVARIANTS["ele-1"](primitive)


def test_a_bundle_reference_must_reach_a_resource_of_its_target_profile():
	bundle = example("Bundle-ExampleBundleCPTS1")
	slot = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot")
	practitioner = next(
		e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Practitioner"
	)
	slot["schedule"] = {
		"reference": f"Practitioner/{practitioner['id']}"
	}  # Slot.schedule: FrScheduleAgregateur
	errors = fc.validate(bundle)
	assert errors_naming(errors, "targetProfile", ".schedule"), errors


def test_a_consultation_type_must_not_carry_the_healthcare_service_extension():
	slot = example("Slot-ExampleSlotCPTS1")
	consultation = next(st for st in slot["serviceType"] if not st.get("extension"))
	assert consultation["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	consultation["extension"] = [
		{
			"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
			"valueReference": {"reference": "HealthcareService/ExampleHealthcareServiceCPTS1"},
		}
	]
	errors = fc.validate(slot)
	assert errors_naming(errors, "cardinality", "extension:sas-servicetype-r5"), errors


def test_the_fullurls_of_a_bundle_must_be_unique():
	bundle = example("Bundle-ExampleBundleCPTS1")
	bundle["entry"][1]["fullUrl"] = bundle["entry"][0]["fullUrl"]
	assert errors_naming(fc.validate(bundle), "bdl-7")


def test_a_contained_location_in_a_bundle_must_declare_its_profile():
	bundle = example("Bundle-ExampleBundlePSIndiv")
	role = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "PractitionerRole")
	del role["contained"][0]["meta"]
	errors = fc.validate(bundle)
	assert errors_naming(errors, "guide: meta.profile", ".contained(Location/"), errors


def test_a_ps_indiv_bundle_entry_without_meta_profile_is_refused():
	bundle = example("Bundle-ExampleBundlePSIndiv")
	schedule = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Schedule")
	del schedule["meta"]
	assert errors_naming(fc.validate(bundle), "guide: meta.profile", "resource(Schedule/")


def test_an_operation_outcome_entry_needs_no_guide_profile():
	bundle = example("Bundle-ExampleBundleCPTS1")
	bundle["entry"].append(
		{
			"fullUrl": "urn:uuid:0d9d5f7e-3b0b-4d49-9d6b-1f1f2b1c0a01",
			"resource": {
				"resourceType": "OperationOutcome",
				"issue": [{"severity": "information", "code": "informational", "diagnostics": "1 créneau"}],
			},
			"search": {"mode": "outcome"},
		}
	)
	fc.assert_conforms(bundle)


R4 = "http://hl7.org/fhir/StructureDefinition/"


@pytest.mark.parametrize("path", sorted(fc.SAS_DIR.glob("CapabilityStatement-*.json")), ids=lambda p: p.stem)
def test_the_guide_capability_statements_conform_to_fhir_r4(path):
	"""Resources without a guide profile (CapabilityStatement, OperationOutcome) validate against R4 core."""
	fc.assert_conforms(json.loads(path.read_text()), R4 + "CapabilityStatement")


def test_an_operation_outcome_is_checked_against_fhir_r4():
	good = {
		"resourceType": "OperationOutcome",
		"issue": [{"severity": "error", "code": "not-found", "diagnostics": "Créneau inconnu"}],
	}
	fc.assert_conforms(good, R4 + "OperationOutcome")
	bad = {
		"resourceType": "OperationOutcome",
		"issue": [{"severity": "grave", "code": "not-found"}, {"code": "invalid"}],
	}
	errors = fc.validate(bad, R4 + "OperationOutcome")
	assert errors_naming(errors, "binding", "issue[0].severity"), errors
	assert errors_naming(errors, "cardinality", "issue[1].severity"), errors


def test_every_invariant_of_the_definitions_parses_with_fhirpathpy():
	"""Each error-severity invariant of the guide's profiles and of the R4 definitions they use is evaluable."""
	keys = set()
	for sd in fc._registry().sds.values():
		for node in sd.by_id.values():
			for c in node.el.get("constraint") or ():
				if c.get("severity") != "error" or c["key"] in fc.UNEVALUATED_INVARIANTS:
					continue
				expression = fc.REWRITTEN_INVARIANTS.get(c["key"], lambda e: e)(c["expression"])
				fc._compiled(expression)
				keys.add(c["key"])
	assert {"ele-1", "ref-1", "dom-3", "bdl-7", "FINESS-invariant"} <= keys


def test_a_cpts_slot_without_security_label_conforms_to_the_snapshots():
	"""The guide's CPTS page asks for the slot types in meta.security, but its profile keeps it 0..*: the
	facade's own tests assert the labels; the validator reports only what the profiles say."""
	slot = example("Slot-ExampleSlotCPTS1")
	del slot["meta"]["security"]
	fc.assert_conforms(slot)


def test_every_function_the_invariants_call_exists_in_fhirpathpy():
	"""What fhirpathpy lacks shows up here, not in the middle of a facade test (hasValue() is added by us)."""
	import re

	from fhirpathpy.engine.invocations import invocation_registry

	operators = {"in", "and", "or", "xor", "implies", "contains", "is", "as", "div", "mod"}
	known = set(invocation_registry) | set(fc._FHIRPATH_OPTIONS["userInvocationTable"]) | operators
	missing = set()
	for sd in fc._registry().sds.values():
		for node in sd.by_id.values():
			for c in node.el.get("constraint") or ():
				if c.get("severity") != "error" or c["key"] in fc.UNEVALUATED_INVARIANTS:
					continue
				expression = fc.REWRITTEN_INVARIANTS.get(c["key"], lambda e: e)(c["expression"])
				for name in re.findall(r"\b([A-Za-z_]\w*)\s*\(", expression):
					if name not in known:
						missing.add((name, c["key"]))
	assert not missing, sorted(missing)


def test_an_empty_answer_conforms_to_the_ps_bundle_profile_only():
	"""The guide's FAQ (PS indiv - CPTS, item 9) expects an empty Bundle when no slot is free, and shows it
	declaring BundleAgregateur: the CPTS Bundle profile requires a slot, a schedule, a practitioner and a
	practitioner role (entry 4..*), so an empty answer cannot declare it."""
	empty = {
		"resourceType": "Bundle",
		"id": "8cbb33dc-779e-45e9-a5f6-ea66101288c5",
		"meta": {"profile": ["http://sas.fr/fhir/StructureDefinition/BundleAgregateur"]},
		"type": "searchset",
		"total": 0,
		"link": [{"relation": "self", "url": "https://exemple.com/ans-sas/Slot/?status=free"}],
	}
	fc.assert_conforms(empty)
	errors = fc.validate(empty, CPTS_BUNDLE)
	assert errors_naming(errors, "cardinality", "entry:slotAgregateurCPTS"), errors
