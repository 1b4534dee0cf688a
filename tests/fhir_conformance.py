"""Check FHIR resources against the compiled profiles of the SAS guide (ans.fhir.fr.sas 1.2.0).

A test helper, not app code. The reference is the guide's own published package (tests/fhir/sas-1.2.0/:
StructureDefinitions with snapshots, fr-core constraints merged) and the FHIR R4 core definitions it builds on
(tests/fhir/r4/); see tests/fhir/README.md for where they come from. tests/ is on pytest's pythonpath:

    from fhir_conformance import assert_conforms, validate

    errors = validate(bundle)  # against every guide profile its meta.profile declares
    assert_conforms(slot, "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator")
    assert_conforms(outcome, "http://hl7.org/fhir/StructureDefinition/OperationOutcome")  # R4 core, no guide profile

Each error reads `<path>: <what> [<rule>] (<profile>)`, the rule being cardinality, structure, type, fixed,
pattern, binding, slicing, targetProfile, an invariant key (ele-1, ref-1, bdl-7, FINESS-invariant...) or
`guide: meta.profile`. What is checked, walking the instance along the snapshot's element tree (datatypes the
snapshot does not unroll come from R4 core):
- cardinalities (slices included), unknown elements, JSON shape (arrays, `_x` primitive parts, no null/empty);
- fixed[x] (equal) and pattern[x] (contains at least); choice types (value[x]); primitive formats (FHIR R4
  regexes: instant, dateTime, date, id, code...);
- required bindings whose ValueSet is known: the guide's, or the FHIR/HL7 ones expanded in
  tests/fhir/r4/r4-valuesets.json (fr-core and ANS NOS ones are not checked); extensible/preferred never;
- slicing with discriminators value, pattern (fixed/pattern values or a required binding under the slice),
  type, profile (meta.profile, else conformance to the slice's profile) and exists; closed slicing;
- every error-severity invariant (constraint.expression) evaluated with fhirpathpy, with three documented
  exceptions: NATIVE_INVARIANTS (ele-1, computed in Python for speed, checked against fhirpathpy by the tests),
  REWRITTEN_INVARIANTS (dom-3's as() on collections), UNEVALUATED_INVARIANTS (txt-1/txt-2, htmlChecks()).
  Any other expression fhirpathpy cannot evaluate raises ConformanceSetupError: a broken test setup, not a
  non-conformity;
- contained resources against the profile of the reference pointing at them, and references resolved inside a
  Bundle against their targetProfile (when it is a guide profile).

One rule is the guide's text rather than its snapshots: its technical pages ("Validateur ressources") require
each resource of a search answer to declare its profile in meta.profile, so an entry (or a contained resource)
of a guide Bundle, of a type the Bundle profile slices, without meta.profile is an error.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models as _fhirpath_models

FHIR_DIR = Path(__file__).resolve().parent / "fhir"
SAS_DIR = FHIR_DIR / "sas-1.2.0"
R4_DIR = FHIR_DIR / "r4"

# Invariants not evaluated, each with its reason. Keep this list short: anything else fhirpathpy cannot
# evaluate stops the test as a setup error.
UNEVALUATED_INVARIANTS = {
	# Narrative.div: htmlChecks() (XHTML content rules) is not a FHIRPath function fhirpathpy implements; the
	# facade sends no narrative, and the guide's examples' narratives are IG Publisher output.
	"txt-1": "htmlChecks() not implemented by fhirpathpy",
	"txt-2": "htmlChecks() not implemented by fhirpathpy",
}


# Invariants evaluated in a rewritten form, each with its reason (the meaning is unchanged).
REWRITTEN_INVARIANTS = {
	# dom-3 applies as() to whole collections (`%resource.descendants().as(canonical)`): fhirpathpy follows
	# FHIRPath N1 strictly (as() on more than one item is an error) where FHIR's own validator filters;
	# ofType() is that filter.
	"dom-3": lambda expression: expression.replace(".as(", ".ofType("),
}


def _ele_1(value) -> bool:
	"""ele-1 `hasValue() or (children().count() > id.count())` on FHIR JSON: a primitive has a value (or its
	`_x` part has children), a complex element has a child other than `id`."""
	if isinstance(value, dict):
		return any(k not in ("id", "resourceType") and v is not None and v != [] for k, v in value.items())
	return value is not None


# Invariants computed in Python, with why. ele-1 holds on every element (some 40 per resource): through
# fhirpathpy it cost 0.2 ms each, seconds for one 200-entry Bundle. tests/test_fhir_conformance.py checks on
# the guide's examples and on broken elements that the Python version and fhirpathpy agree.
NATIVE_INVARIANTS = {"ele-1": _ele_1}

# Invariants skipped where their expression is true by its first disjunct, read in Python (fhirpathpy evaluates
# the rest): ref-1 `reference.startsWith('#').not() or (...)` only constrains references to contained resources.
_TRUE_WHEN = {
	"ref-1": lambda value: not (isinstance(value, dict) and str(value.get("reference", "")).startswith("#")),
}


class ConformanceSetupError(RuntimeError):
	"""The validator could not evaluate a rule (an expression fhirpathpy does not support...)."""


# ---------------------------------------------------------------------------------------------------------
# Primitive types (FHIR R4 datatypes page: regexes and JSON representations)
# ---------------------------------------------------------------------------------------------------------
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_PRIMITIVE_REGEX = {
	"date": rf"{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
	"dateTime": rf"{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{_TIME}{_TZ})?)?)?",
	"instant": rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{_TIME}{_TZ}",
	"time": _TIME,
	"code": r"[^\s]+(\s[^\s]+)*",
	"id": r"[A-Za-z0-9\-\.]{1,64}",
	"oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
	"uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
	"uri": r"\S*",
	"url": r"\S*",
	"canonical": r"\S*",
	"string": r"[ \r\n\t\S]+",
	"markdown": r"[ \r\n\t\S]+",
	"base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
}
_PRIMITIVE_REGEX = {k: re.compile(v) for k, v in _PRIMITIVE_REGEX.items()}
_STRING_TYPES = {
	"string",
	"code",
	"id",
	"uri",
	"url",
	"canonical",
	"oid",
	"uuid",
	"markdown",
	"base64Binary",
	"date",
	"dateTime",
	"instant",
	"time",
	"xhtml",
}
_FHIRPATH_SYSTEM = {
	"http://hl7.org/fhirpath/System.String": "string",
	"http://hl7.org/fhirpath/System.Boolean": "boolean",
	"http://hl7.org/fhirpath/System.Integer": "integer",
	"http://hl7.org/fhirpath/System.Decimal": "decimal",
	"http://hl7.org/fhirpath/System.Date": "date",
	"http://hl7.org/fhirpath/System.DateTime": "dateTime",
	"http://hl7.org/fhirpath/System.Time": "time",
}


def _type_code(code: str) -> str:
	return _FHIRPATH_SYSTEM.get(code, code)


_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


def _fhir_type(t: dict) -> dict:
	"""Element.id, Extension.url, Resource.id... are typed System.String with their FHIR type in an extension."""
	for ext in t.get("extension") or ():
		if ext.get("url") == _FHIR_TYPE_EXT and ext.get("valueUrl"):
			return {**t, "code": ext["valueUrl"]}
	return t


def _is_primitive(code: str) -> bool:
	code = _type_code(code)
	return code[:1].islower()


def _primitive_error(code: str, value) -> str | None:
	code = _type_code(code)
	if code == "boolean":
		return None if isinstance(value, bool) else "a boolean is expected"
	if code in ("integer", "positiveInt", "unsignedInt"):
		if isinstance(value, bool) or not isinstance(value, int):
			return f"an {code} (JSON integer) is expected"
		if not -(2**31) <= value < 2**31:
			return "integer out of the 32-bit range"
		if code == "positiveInt" and value < 1:
			return "a positiveInt must be > 0"
		if code == "unsignedInt" and value < 0:
			return "an unsignedInt must be >= 0"
		return None
	if code == "decimal":
		return (
			None
			if isinstance(value, int | float) and not isinstance(value, bool)
			else "a JSON number is expected"
		)
	if code in _STRING_TYPES:
		if not isinstance(value, str):
			return f"a {code} (JSON string) is expected"
		regex = _PRIMITIVE_REGEX.get(code)
		if regex is not None and not regex.fullmatch(value):
			return f"{value!r} is not a valid {code}"
		return None
	return None


# ---------------------------------------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------------------------------------
class _Node:
	"""One element of a snapshot, with its children (by name) and its slices."""

	__slots__ = (
		"_definitions",
		"_expectations",
		"_required_vs",
		"children",
		"el",
		"fixed",
		"is_array",
		"name",
		"parent_sliced",
		"primitive",
		"sd",
		"single_type",
		"slices",
		"types",
	)

	def __init__(self, el: dict, sd: _SD):
		self.el = el
		self.fixed = _fixed_or_pattern(el)
		self._expectations = None
		self._definitions = {}
		self._required_vs = False  # not looked up yet
		self.types = el.get("type") or []
		self.single_type = _type_code(self.types[0]["code"]) if len(self.types) == 1 else None
		self.primitive = bool(self.single_type) and _is_primitive(self.single_type)
		base_max = (el.get("base") or {}).get("max", el.get("max", "1"))
		self.is_array = base_max not in ("1", "0")
		self.sd = sd
		self.name = el["path"].rsplit(".", 1)[-1]
		self.children: dict[str, _Node] = {}
		self.slices: list[_Node] = []
		self.parent_sliced: _Node | None = None

	def array(self) -> bool:
		return self.is_array

	def required_vs(self):
		"""The known expansion of the ValueSet bound `required` here, or None."""
		if self._required_vs is False:
			binding = self.el.get("binding") or {}
			self._required_vs = None
			if binding.get("strength") == "required":
				self._required_vs = _registry().valueset(binding.get("valueSet"))
		return self._required_vs

	def child(self, key: str):
		"""(node, type code) of the child element named `key` in an instance (choices: valueString...)."""
		node = self.children.get(key)
		if node is not None:
			return node, None
		for name, node in self.children.items():
			if name.endswith("[x]") and key.startswith(name[:-3]):
				suffix = key[len(name) - 3 :]
				for t in node.types:
					code = _type_code(t["code"])
					if code[:1].upper() + code[1:] == suffix:
						return node, code
		return None, None


class _SD:
	def __init__(self, sd: dict):
		self.url = sd["url"]
		self.type = sd["type"]
		self.kind = sd.get("kind")
		self.raw = sd
		self.by_id: dict[str, _Node] = {}
		self.root: _Node | None = None
		for el in sd["snapshot"]["element"]:
			if any(t.get("extension") for t in el.get("type") or ()):
				el = {**el, "type": [_fhir_type(t) for t in el["type"]]}
			node = _Node(el, self)
			eid = el.get("id") or el["path"]
			self.by_id[eid] = node
			if self.root is None:
				self.root = node
				continue
			head, _, last = eid.rpartition(".")
			if ":" in last and el.get("sliceName"):
				sliced_id = head + "." + last.split(":", 1)[0] if head else last.split(":", 1)[0]
				sliced = self.by_id.get(sliced_id)
				if sliced is not None:
					node.parent_sliced = sliced
					sliced.slices.append(node)
					continue
			parent = self.by_id.get(head)
			if parent is not None:
				parent.children[node.name] = node

	def by_path(self, path: str) -> _Node | None:
		return self.by_id.get(path)


class _Registry:
	def __init__(self):
		self.sds: dict[str, _SD] = {}
		self.guide_urls: set[str] = set()
		self.valuesets: dict[str, set[tuple[str | None, str]]] = {}
		r4 = json.loads((R4_DIR / "r4-structuredefinitions.json").read_text())
		for sd in r4["structureDefinitions"]:
			self.sds[sd["url"]] = _SD(sd)
		for path in sorted(SAS_DIR.glob("StructureDefinition-*.json")):
			sd = json.loads(path.read_text())
			self.sds[sd["url"]] = _SD(sd)
			self.guide_urls.add(sd["url"])
		self.resource_types = {sd.type for sd in self.sds.values() if sd.kind == "resource"}
		for url, codes in json.loads((R4_DIR / "r4-valuesets.json").read_text())["expansions"].items():
			self.valuesets[url] = {(s, c) for s, c in codes}
		for path in sorted(SAS_DIR.glob("ValueSet-*.json")):
			vs = json.loads(path.read_text())
			codes = set()
			for inc in vs.get("compose", {}).get("include", []):
				if inc.get("concept"):
					codes |= {(inc.get("system"), c["code"]) for c in inc["concept"]}
				else:
					cs = self._guide_codesystem(inc.get("system"))
					if cs is None:
						codes = None
						break
					codes |= {(inc.get("system"), code) for code in cs}
			if codes:
				self.valuesets[vs["url"]] = codes

	def _guide_codesystem(self, url):
		for path in SAS_DIR.glob("CodeSystem-*.json"):
			cs = json.loads(path.read_text())
			if cs.get("url") == url:
				out = []

				def walk(concepts):
					for c in concepts or ():
						out.append(c["code"])
						walk(c.get("concept"))

				walk(cs.get("concept"))
				return out
		return None

	def sd(self, url: str | None) -> _SD | None:
		if not url:
			return None
		url = url.split("|")[0]
		sd = self.sds.get(url)
		if sd is None and "/" not in url:
			sd = self.sds.get("http://hl7.org/fhir/StructureDefinition/" + url)
		return sd

	def base(self, type_code: str) -> _SD | None:
		return self.sds.get("http://hl7.org/fhir/StructureDefinition/" + _type_code(type_code))

	def valueset(self, url: str | None):
		if not url:
			return None
		return self.valuesets.get(url.split("|")[0])


@lru_cache(maxsize=1)
def _registry() -> _Registry:
	return _Registry()


def _has_value(inputs):
	return len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)


_PATH2TYPE = _fhirpath_models["r4"]["path2Type"]
# hasValue() (FHIR R4 FHIRPath) is missing from fhirpathpy; trace() must not print.
_FHIRPATH_OPTIONS = {
	"userInvocationTable": {"hasValue": {"fn": _has_value}},
	"traceFn": lambda label, value: None,
}


@cache
def _compiled(expression: str):
	try:
		return fhirpathpy.compile(expression, _fhirpath_models["r4"], _FHIRPATH_OPTIONS)
	except Exception as e:
		raise ConformanceSetupError(f"fhirpathpy cannot parse {expression!r}: {e}") from e


# ---------------------------------------------------------------------------------------------------------
# Matching helpers (fixed / pattern / slicing)
# ---------------------------------------------------------------------------------------------------------
def _contains(instance, pattern) -> bool:
	"""FHIR pattern semantics: `instance` has at least the values of `pattern`."""
	if isinstance(pattern, dict):
		if isinstance(instance, list):
			return any(_contains(i, pattern) for i in instance)
		if not isinstance(instance, dict):
			return False
		return all(_contains(instance.get(k), v) for k, v in pattern.items())
	if isinstance(pattern, list):
		items = instance if isinstance(instance, list) else [] if instance is None else [instance]
		return all(any(_contains(i, p) for i in items) for p in pattern)
	if isinstance(instance, list):
		return pattern in instance
	return instance == pattern


def _fixed_or_pattern(el: dict):
	for k, v in el.items():
		if k.startswith("fixed"):
			return "fixed", v
		if k.startswith("pattern"):
			return "pattern", v
	return None, None


def _values_at(item, path: str) -> list:
	values = [item]
	if path in ("$this", ""):
		return values
	for part in path.split("."):
		nxt = []
		for v in values:
			if isinstance(v, dict) and part in v:
				got = v[part]
				nxt.extend(got if isinstance(got, list) else [got])
		values = nxt
	return values


def _node_at(node: _Node, path: str) -> _Node | None:
	if path in ("$this", ""):
		return node
	for part in path.split("."):
		nxt = node.children.get(part)
		if nxt is None:
			return None
		node = nxt
	return node


def _codes_of(value, type_code: str | None):
	"""(system, code) pairs of a code / Coding / CodeableConcept value."""
	if isinstance(value, str):
		return [(None, value)]
	if isinstance(value, dict):
		if "coding" in value or type_code == "CodeableConcept":
			return [(c.get("system"), c.get("code")) for c in value.get("coding", []) if isinstance(c, dict)]
		if "code" in value or "system" in value:
			return [(value.get("system"), value.get("code"))]
	return []


def _in_valueset(pairs, vs) -> bool:
	for system, code in pairs:
		for s, c in vs:
			if c == code and (system is None or s == system):
				return True
	return False


class _Ctx:
	def __init__(self):
		self.errors: list[str] = []
		self.resource = None  # the resource being walked (FHIRPath %resource)
		self.root = None  # %rootResource (the container of contained resources)
		self.contained_targets: dict[str, set[str]] = {}
		self.require_profiles = False  # inside a guide Bundle: contained resources declare their profile
		self.bundle_refs: list[tuple[str, str, set[str]]] = []  # (path, reference, guide target profiles)


# ---------------------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------------------
def _definition_for(node: _Node, type_code: str | None) -> _Node | None:
	"""The node whose children define the content of an instance of `node` (typed `type_code`)."""
	if node.children:
		return node
	if node.parent_sliced is not None and node.parent_sliced.children:
		return node.parent_sliced
	reg = _registry()
	types = node.types
	if type_code is None and len(types) == 1:
		type_code = types[0]["code"]
	for t in types:
		if _type_code(t["code"]) == _type_code(type_code or ""):
			for profile in t.get("profile") or ():
				sd = reg.sd(profile)
				if sd is not None and sd.type == _type_code(t["code"]):
					return sd.root
	if node.el.get("contentReference"):
		ref = node.el["contentReference"]
		sd_url, _, eid = ref.partition("#")
		sd = reg.sd(sd_url) if sd_url else node.sd
		target = (sd.by_path(eid) if sd else None) or node.sd.by_path(eid)
		return target
	sd = reg.base(type_code or "")
	return sd.root if sd else None


_RESULTS: dict[tuple, bool] = {}  # (expression, element path, element JSON) -> the invariant fails


def _check_constraints(node: _Node, value, path: str, ctx: _Ctx, data_for_fhirpath):
	for c in node.el.get("constraint") or ():
		if c.get("severity") != "error" or not c.get("expression"):
			continue
		if c["key"] in UNEVALUATED_INVARIANTS:
			continue
		if (
			c["expression"].startswith("contained.")
			and isinstance(value, dict)
			and not value.get("contained")
		):
			continue  # dom-2..dom-5 constrain contained resources only: nothing to check without any
		trivially_true = _TRUE_WHEN.get(c["key"])
		if trivially_true is not None and trivially_true(data_for_fhirpath):
			continue
		native = NATIVE_INVARIANTS.get(c["key"])
		if native is not None:
			if not native(data_for_fhirpath):
				ctx.errors.append(
					f"{path}: invariant {c['key']} fails: {c.get('human', c['expression'])} [{c['key']}]"
				)
			continue
		expression = c["expression"]
		if c["key"] in REWRITTEN_INVARIANTS:
			expression = REWRITTEN_INVARIANTS[c["key"]](expression)
		base_path = (node.el.get("base") or {}).get("path") or node.el["path"]
		# An expression without %variables depends on the element alone: answers repeat (same codings,
		# references, periods in every Slot of a Bundle), so they are remembered.
		cache_key = None
		if "%" not in expression and not (
			isinstance(data_for_fhirpath, dict) and "resourceType" in data_for_fhirpath
		):
			cache_key = (expression, base_path, json.dumps(data_for_fhirpath, sort_keys=True, default=str))
			failed = _RESULTS.get(cache_key)
			if failed is not None:
				if failed:
					ctx.errors.append(
						f"{path}: invariant {c['key']} fails: {c.get('human', c['expression'])} [{c['key']}]"
					)
				continue
		fn = _compiled(expression)
		data = data_for_fhirpath
		if isinstance(data, dict) and "resourceType" not in data:
			# typed node: FHIRPath's children()/as() need the element's type (Meta, Identifier, Bundle.entry...)
			data = ResourceNode.create_node(data, _PATH2TYPE.get(base_path, base_path))
		env = {"resource": ctx.resource, "rootResource": ctx.root, "context": data}
		try:
			result = fn(data, env)
		except Exception as e:
			raise ConformanceSetupError(
				f"{path}: fhirpathpy cannot evaluate {c['key']} {c['expression']!r}: {e}"
			) from e
		if cache_key is not None:
			if len(_RESULTS) > 100_000:
				_RESULTS.clear()
			_RESULTS[cache_key] = result == [False]
		if result == [False]:
			ctx.errors.append(
				f"{path}: invariant {c['key']} fails: {c.get('human', c['expression'])} [{c['key']}]"
			)


def _check_value_rules(node: _Node, value, type_code: str | None, path: str, ctx: _Ctx):
	kind, expected = node.fixed
	if kind == "fixed" and value != expected:
		ctx.errors.append(f"{path}: must be exactly {json.dumps(expected)}, got {json.dumps(value)} [fixed]")
	elif kind == "pattern" and not _contains(value, expected):
		ctx.errors.append(f"{path}: must contain {json.dumps(expected)}, got {json.dumps(value)} [pattern]")
	vs = node.required_vs()
	if vs is not None:
		pairs = _codes_of(value, type_code or node.single_type)
		if not _in_valueset(pairs, vs):
			ctx.errors.append(
				f"{path}: {json.dumps(value)} is not in the required ValueSet {node.el['binding']['valueSet']} [binding]"
			)


def _walk(value, node: _Node, type_code: str | None, path: str, ctx: _Ctx, ext=None):
	"""Validate one instance value against element `node`."""
	types = node.types
	if type_code is None:
		type_code = node.single_type
	_check_value_rules(node, value, type_code, path, ctx)
	if type_code and _is_primitive(type_code) and node.sd.kind != "primitive-type":
		if value is not None:
			err = _primitive_error(type_code, value)
			if err:
				ctx.errors.append(f"{path}: {err} [type]")
		if ext is not None:
			_walk_primitive_extension(ext, path, ctx)
		_check_constraints(node, value, path, ctx, value if ext is None else {"value": value, **ext})
		return
	if type_code in _registry().resource_types:
		profiles = []
		for t in types:
			profiles.extend(t.get("profile") or ())
		_walk_resource(value, profiles, path, ctx, contained=False)
		return
	if not isinstance(value, dict):
		ctx.errors.append(f"{path}: a JSON object is expected [type]")
		return
	definition = node._definitions.get(type_code, False)
	if definition is False:
		definition = node._definitions[type_code] = _definition_for(node, type_code)
	if definition is None:
		raise ConformanceSetupError(f"{path}: no definition for type {type_code!r}")
	_walk_object(value, definition, path, ctx)
	_check_constraints(node, value, path, ctx, value)
	if type_code == "Reference":
		_note_reference(node, value, path, ctx)


def _walk_primitive_extension(ext, path, ctx):
	if not isinstance(ext, dict):
		ctx.errors.append(f"{path}: the primitive's extension part must be a JSON object [type]")
		return
	element = _registry().base("Element").root
	_walk_object(ext, element, path, ctx)


def _note_reference(node: _Node, value: dict, path: str, ctx: _Ctx):
	"""Remember references whose targetProfile narrows to guide profiles, to check their targets."""
	ref = value.get("reference")
	if not isinstance(ref, str) or not ref:
		return
	reg = _registry()
	targets = {
		target.split("|")[0]
		for t in node.types
		for target in t.get("targetProfile") or ()
		if target.split("|")[0] in reg.guide_urls
	}
	if not targets:
		return
	if ref.startswith("#"):
		ctx.contained_targets.setdefault(ref[1:], set()).update(targets)
	else:
		ctx.bundle_refs.append((path, ref, targets))


def _check_bundle_references(bundle: dict, ctx: _Ctx):
	"""A reference resolved within the Bundle must reach a resource of one of its guide target profiles."""
	by_key = {}
	for e in bundle.get("entry") or ():
		res = e.get("resource") if isinstance(e, dict) else None
		if not isinstance(res, dict):
			continue
		if isinstance(e.get("fullUrl"), str):
			by_key[e["fullUrl"]] = res
		if res.get("id"):
			by_key[f"{res.get('resourceType')}/{res['id']}"] = res
	for path, ref, targets in ctx.bundle_refs:
		target = by_key.get(ref)
		if target is None:
			tail = "/".join(ref.rstrip("/").split("/")[-2:])
			target = by_key.get(tail) if "/" in tail else None
		if target is None:
			continue  # not in this Bundle: nothing to check here
		declared = {p.split("|")[0] for p in (target.get("meta") or {}).get("profile") or ()}
		if declared & targets:
			continue
		if any(
			_registry().sd(t).type == target.get("resourceType") and not _validate_one(target, t)
			for t in targets
		):
			continue
		ctx.errors.append(
			f"{path}: {ref} is not a {' or '.join(sorted(t.rsplit('/', 1)[-1] for t in targets))} [targetProfile]"
		)


def _walk_object(obj: dict, definition: _Node, path: str, ctx: _Ctx):
	is_resource_root = definition is definition.sd.root and definition.sd.kind == "resource"
	seen = {}
	for key in obj:
		if key == "resourceType" and is_resource_root:
			continue
		if key == "fhir_comments":
			continue
		name = key[1:] if key.startswith("_") else key
		child, type_code = definition.child(name)
		if child is None:
			ctx.errors.append(f"{path}.{key}: unknown element (not in {definition.sd.type}) [structure]")
			continue
		seen.setdefault(id(child), (child, []))[1].append((name, type_code))
	for child in definition.children.values():
		entries = seen.get(id(child))
		if entries is None:
			if child.el.get("min", 0) > 0:
				ctx.errors.append(
					f"{path}.{child.name}: required element missing (min {child.el['min']}) [cardinality]"
				)
			for s in child.slices:
				if s.el.get("min", 0) > 0:
					ctx.errors.append(
						f"{path}.{child.name}:{s.el['sliceName']}: required slice missing (min {s.el['min']}) [cardinality]"
					)
			continue
		names = {n for n, _ in entries[1]}
		if len(names) > 1:
			ctx.errors.append(
				f"{path}: several choices of {child.name} ({', '.join(sorted(names))}) [structure]"
			)
		name, type_code = entries[1][0]
		_walk_element_items(obj, name, child, type_code, f"{path}.{name}", ctx)


def _walk_element_items(obj, name, node: _Node, type_code, path, ctx: _Ctx):
	value, ext = obj.get(name), obj.get("_" + name)
	primitive = _is_primitive(type_code) if type_code else node.primitive
	if node.is_array:
		if (value is not None and not isinstance(value, list)) or (
			ext is not None and not isinstance(ext, list)
		):
			ctx.errors.append(
				f"{path}: must be a JSON array (max {node.el.get('base', {}).get('max', '*')}) [structure]"
			)
			return
		values = value or []
		exts = ext or []
		if primitive and exts and values and len(exts) != len(values):
			ctx.errors.append(f"{path}: _{name} must align with {name} [structure]")
			return
		n = max(len(values), len(exts))
		items = [
			(values[i] if i < len(values) else None, exts[i] if i < len(exts) else None) for i in range(n)
		]
		if n == 0:
			ctx.errors.append(f"{path}: an empty array is not allowed [ele-1]")
	else:
		if isinstance(value, list) or isinstance(ext, list):
			ctx.errors.append(f"{path}: must not be an array (max 1) [structure]")
			return
		items = [(value, ext)]
	for v, e in items:
		if v is None and e is None:
			ctx.errors.append(f"{path}: null or empty value [ele-1]")
			return
		if not primitive and e is not None:
			ctx.errors.append(f"{path}: _{name} is only allowed on primitives [structure]")
	_check_cardinality(node, len(items), path, ctx)
	if node.slices or node.el.get("slicing"):
		assigned = _assign_slices(node, [v for v, _ in items], type_code, path, ctx)
	else:
		assigned = [node] * len(items)
	for i, ((v, e), target) in enumerate(zip(items, assigned, strict=True)):
		item_path = f"{path}[{i}]" if node.is_array else path
		if target is not node and v is not None:
			_check_value_rules(node, v, type_code, item_path, ctx)
		if v is None and e is not None and primitive:
			_walk_primitive_extension(e, item_path, ctx)
			continue
		_walk(v, target, type_code, item_path, ctx, ext=e)


def _check_cardinality(node: _Node, count: int, path: str, ctx: _Ctx):
	el = node.el
	if count < el.get("min", 0):
		ctx.errors.append(f"{path}: {count} found, at least {el['min']} required [cardinality]")
	mx = el.get("max", "*")
	if mx != "*" and count > int(mx):
		ctx.errors.append(f"{path}: {count} found, at most {mx} allowed [cardinality]")


def _slice_matches(item, slc: _Node, discriminators, type_code: str | None, ctx: _Ctx) -> bool:
	reg = _registry()
	for d in discriminators:
		dtype, dpath = d["type"], d["path"]
		if dpath.startswith("resolve()") or "ofType(" in dpath or "extension(" in dpath:
			raise ConformanceSetupError(f"{slc.el['id']}: discriminator path {dpath!r} not supported")
		values = _values_at(item, dpath)
		if dtype in ("value", "pattern"):
			sub = _node_at(slc, dpath)
			if sub is None and dpath == "url":
				urls = [p for t in slc.types for p in t.get("profile") or ()]
				if urls and not any(v in urls for v in values):
					return False
				continue
			if sub is None:
				definition = _definition_for(slc, None)
				sub = _node_at(definition, dpath) if definition is not None else None
			if sub is None:
				continue
			if sub._expectations is None:
				sub._expectations = _expectations(sub)
			expectations = sub._expectations
			if not expectations:
				continue
			for relpath, kind, expected in expectations:
				if kind == "binding":
					vs = reg.valueset(expected)
					pairs = [p for v in values for p in _codes_of(v, None)]
					if not _in_valueset(pairs, vs):
						return False
					continue
				got = [w for v in values for w in _values_at(v, relpath)] if relpath else values
				if not any((g == expected) if kind == "fixed" else _contains(g, expected) for g in got):
					return False
		elif dtype == "type":
			want = {_type_code(t["code"]) for t in (_node_at(slc, dpath) or slc).types}
			if dpath == "$this" and type_code:  # a choice element sliced by type (value[x]:valueReference)
				got = {type_code}
			else:
				got = {v.get("resourceType") for v in values if isinstance(v, dict)}
			if not got & want:
				return False
		elif dtype == "profile":
			sub = _node_at(slc, dpath)
			profiles = {p.split("|")[0] for t in (sub or slc).types for p in t.get("profile") or ()}
			resource_types = {_type_code(t["code"]) for t in (sub or slc).types}
			ok = False
			for v in values:
				if not isinstance(v, dict):
					continue
				declared = {p.split("|")[0] for p in (v.get("meta") or {}).get("profile") or ()}
				if declared & profiles:
					ok = True
				elif v.get("resourceType") in resource_types and not declared & _registry().guide_urls:
					# FHIR semantics: the slice holds what conforms to its profile, declared or not.
					ok = all(not _validate_one(v, p) for p in profiles)
			if not ok:
				return False
		elif dtype == "exists":
			sub = _node_at(slc, dpath)
			if sub is None:
				continue
			must = sub.el.get("min", 0) > 0
			if must != bool(values):
				return False
		else:
			raise ConformanceSetupError(f"{slc.el['id']}: discriminator type {dtype!r} not supported")
	return True


def _expectations(sub: _Node, prefix: str = ""):
	"""(relative path, kind, value) of the fixed/pattern values and required bindings under `sub`."""
	out = []
	kind, expected = _fixed_or_pattern(sub.el)
	if kind:
		out.append((prefix, kind, expected))
	binding = sub.el.get("binding") or {}
	if not kind and binding.get("strength") == "required" and _registry().valueset(binding.get("valueSet")):
		out.append((prefix, "binding", binding["valueSet"]))
	for name, child in sub.children.items():
		if name in ("extension", "modifierExtension", "id"):
			continue
		out.extend(_expectations(child, f"{prefix}.{name}" if prefix else name))
	return out


def _assign_slices(node: _Node, values: list, type_code: str | None, path: str, ctx: _Ctx) -> list[_Node]:
	slicing = node.el.get("slicing") or {}
	discriminators = slicing.get("discriminator") or []
	assigned = []
	counts = {id(s): 0 for s in node.slices}
	for i, v in enumerate(values):
		target = node
		if v is not None:
			for slc in node.slices:
				if discriminators and _slice_matches(v, slc, discriminators, type_code, ctx):
					target = slc
					break
		if target is node and slicing.get("rules") == "closed" and node.slices:
			ctx.errors.append(f"{path}[{i}]: matches none of the slices of a closed slicing [slicing]")
		if target is not node:
			counts[id(target)] += 1
		assigned.append(target)
	for s in node.slices:
		_check_cardinality(s, counts[id(s)], f"{path}:{s.el['sliceName']}", ctx)
	return assigned


def _walk_resource(res, profiles, path: str, ctx: _Ctx, contained: bool):
	reg = _registry()
	if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
		ctx.errors.append(f"{path}: a resource (JSON object with resourceType) is expected [structure]")
		return
	rtype = res["resourceType"]
	label = f"{path}({rtype}/{res.get('id', '?')})" if path else f"{rtype}/{res.get('id', '?')}"
	targets = []
	for p in profiles:
		sd = reg.sd(p)
		if sd is not None and sd.type == rtype:
			targets.append(sd)
		elif sd is not None:
			ctx.errors.append(f"{label}: a {sd.type} is expected ({p}) [type]")
			return
	declared = [reg.sd(p) for p in (res.get("meta") or {}).get("profile") or ()]
	for sd in declared:
		if sd is not None and sd.url in reg.guide_urls and sd.type == rtype and sd not in targets:
			targets.append(sd)
	if not targets:
		base = reg.base(rtype)
		if base is None or base.kind != "resource":
			raise ConformanceSetupError(
				f"{label}: no definition for resource type {rtype!r} in tests/fhir/r4"
			)
		targets = [base]
	for sd in targets:
		_walk_resource_against(res, sd, label, ctx)


def _walk_resource_against(res: dict, sd: _SD, label: str, ctx: _Ctx):
	outer_resource, outer_root, outer_targets = ctx.resource, ctx.root, ctx.contained_targets
	ctx.resource = res
	# FHIRPath %rootResource: the container of a contained resource, else the resource itself
	ctx.root = outer_resource if outer_resource is not None and _is_contained(res, outer_resource) else res
	ctx.contained_targets = {}
	try:
		_walk_object(res, sd.root, label, ctx)
		_check_constraints(sd.root, res, label, ctx, res)
		for cid, targets in ctx.contained_targets.items():
			for c in res.get("contained") or ():
				if isinstance(c, dict) and c.get("id") == cid:
					declared = {p.split("|")[0] for p in (c.get("meta") or {}).get("profile") or ()}
					if ctx.require_profiles and not declared:
						ctx.errors.append(
							f"{label}.contained({c.get('resourceType')}/{cid}): no meta.profile; the guide requires "
							"each resource to declare its profile [guide: meta.profile]"
						)
					for t in sorted(targets - declared):
						tsd = _registry().sd(t)
						if tsd.type == c.get("resourceType"):
							_walk_resource_against(
								c, tsd, f"{label}.contained({c['resourceType']}/{cid})", ctx
							)
	finally:
		ctx.resource, ctx.root, ctx.contained_targets = outer_resource, outer_root, outer_targets


def _is_contained(res, outer) -> bool:
	return any(c is res for c in outer.get("contained") or ())


def _guide_bundle_rules(bundle: dict, sd: _SD, ctx: _Ctx):
	"""The guide's technical pages ("Validateur ressources"): each resource of a search answer, of the types its
	Bundle profile slices, declares its profile in meta.profile (contained ones too, checked in the walk)."""
	entry = sd.by_path("Bundle.entry")
	types = set()
	for slc in entry.slices if entry else ():
		resource = slc.children.get("resource")
		types |= {_type_code(t["code"]) for t in (resource.types if resource else ())}
	for i, e in enumerate(bundle.get("entry") or ()):
		res = e.get("resource") if isinstance(e, dict) else None
		if (
			isinstance(res, dict)
			and res.get("resourceType") in types
			and not (res.get("meta") or {}).get("profile")
		):
			ctx.errors.append(
				f"Bundle.entry[{i}].resource({res.get('resourceType')}/{res.get('id', '?')}): no meta.profile; the "
				"guide requires each resource to declare its profile [guide: meta.profile]"
			)


def _validate_one(resource: dict, profile: str) -> list[str]:
	reg = _registry()
	sd = reg.sd(profile)
	if sd is None:
		raise ConformanceSetupError(f"unknown profile {profile!r} (not in tests/fhir)")
	ctx = _Ctx()
	if not isinstance(resource, dict) or resource.get("resourceType") != sd.type:
		rtype = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
		return [f"{rtype}: a {sd.type} is expected by {profile} [type]"]
	label = f"{sd.type}/{resource.get('id', '?')}"
	ctx.require_profiles = sd.type == "Bundle" and sd.url in reg.guide_urls
	_walk_resource_against(resource, sd, label, ctx)
	if sd.type == "Bundle":
		_check_bundle_references(resource, ctx)
		if sd.url in reg.guide_urls:
			_guide_bundle_rules(resource, sd, ctx)
	return [f"{e} ({sd.url.rsplit('/', 1)[-1]})" for e in ctx.errors]


def validate(resource: dict, profile: str | None = None) -> list[str]:
	"""Errors (empty list = conforms) of `resource` against the guide's profile `profile` (canonical URL), or, when
	None, against every profile its meta.profile declares (a resource declaring none of the guide's profiles is an
	error). Bundles: each entry's resource is validated against the profile its slice requires (discriminators
	`profile`, `type`, `value`, `pattern` as the snapshots define them)."""
	reg = _registry()
	if profile is not None:
		return _validate_one(resource, profile)
	declared = (
		[p.split("|")[0] for p in ((resource.get("meta") or {}).get("profile") or ())]
		if isinstance(resource, dict)
		else []
	)
	guide = [p for p in declared if p in reg.guide_urls]
	if not guide:
		rtype = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
		return [
			f"{rtype}: meta.profile declares none of the guide's profiles ({declared or 'none'}) [guide: meta.profile]"
		]
	errors = []
	for p in guide:
		errors.extend(_validate_one(resource, p))
	return errors


def assert_conforms(resource: dict, profile: str | None = None) -> None:
	"""AssertionError listing every error of `validate(resource, profile)`."""
	errors = validate(resource, profile)
	if errors:
		raise AssertionError(f"{len(errors)} conformance error(s):\n" + "\n".join(errors))
