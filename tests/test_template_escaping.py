"""Every template of the app escapes what it prints, by construction: Frappe's website Jinja does not autoescape,
so each block and macro of each template (www/, templates/, the Jinja print formats) opens with
`{% autoescape true %}` and a new page is covered by default. `|safe` is kept for the HTML Frappe itself builds
(its asset links). The web pages carry no inline script, style or event handler: they are served with a
Content-Security-Policy that forbids them (cpts_snp/web_headers.py)."""

import json
import re
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

APP = Path(__file__).resolve().parents[1] / "apps" / "cpts_snp" / "cpts_snp"
WEB_TEMPLATES = sorted(
	p.relative_to(APP) for folder in ("www", "templates") for p in (APP / folder).rglob("*.html")
)
PRINT_FORMATS = sorted(
	p.relative_to(APP)
	for p in APP.glob("*/print_format/*/*.json")
	if json.loads(p.read_text()).get("print_format_type") == "Jinja"
)
SAFE_CALLS = {
	"include_style",
	"include_script",
}  # Frappe's <link>/<script> tags of its bundled assets


def source_of(path: Path) -> str:
	if path.suffix == ".json":
		return json.loads((APP / path).read_text())["html"]
	return (APP / path).read_text()


def is_blank(node) -> bool:
	return isinstance(node, nodes.Output) and all(
		isinstance(child, nodes.TemplateData) and not child.data.strip() for child in node.nodes
	)


def autoescaped(body) -> bool:
	"""An empty body, or one `{% autoescape true %}` around all of it."""
	meaningful = [node for node in body if not is_blank(node)]
	if not meaningful:
		return True
	# `{% autoescape %}` parses as a Scope holding one ScopedEvalContextModifier
	if len(meaningful) != 1 or not isinstance(meaningful[0], nodes.Scope):
		return False
	inner = [node for node in meaningful[0].body if not is_blank(node)]
	if len(inner) != 1 or not isinstance(inner[0], nodes.ScopedEvalContextModifier):
		return False
	return any(
		option.key == "autoescape" and isinstance(option.value, nodes.Const) and option.value.value is True
		for option in inner[0].options
	)


def unescaped_parts(source: str) -> list[str]:
	tree = Environment().parse(source)
	problems = []
	# a base template (or a print format) prints its own top level
	is_base = not any(isinstance(node, nodes.Extends) for node in tree.body)
	if is_base and not autoescaped([n for n in tree.body if not isinstance(n, nodes.Macro | nodes.Assign)]):
		problems.append("the template's top level")
	for node in tree.find_all((nodes.Block, nodes.Macro)):
		if not autoescaped(node.body):
			problems.append(f"{type(node).__name__.lower()} {node.name} (line {node.lineno})")
	for node in tree.find_all(nodes.Filter):
		if node.name == "safe" and not (
			isinstance(node.node, nodes.Call)
			and isinstance(node.node.node, nodes.Name)
			and node.node.node.name in SAFE_CALLS
		):
			problems.append(f"|safe on line {node.lineno}")
	return problems


@pytest.mark.parametrize("path", WEB_TEMPLATES + PRINT_FORMATS, ids=str)
def test_every_block_and_macro_of_the_apps_templates_escapes_what_it_prints(path):
	problems = unescaped_parts(source_of(path))
	assert not problems, f"{path}: wrap in {{% autoescape true %}} … {{% endautoescape %}}: " + ", ".join(
		problems
	)


INLINE = {
	"inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
	"inline style": re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE),
	"event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
	"javascript: address": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize("path", WEB_TEMPLATES, ids=str)
def test_the_web_pages_carry_no_inline_script_style_or_event_handler(path):
	source = source_of(path)
	found = [what for what, pattern in INLINE.items() if pattern.search(source)]
	assert not found, (
		f"{path}: move to public/js/snp_portal.js or public/css/snp_portal.css: {', '.join(found)}"
	)


@pytest.mark.parametrize("path", [p for p in WEB_TEMPLATES if p.parts[0] == "www"], ids=str)
def test_every_web_page_is_built_on_the_apps_base_template(path):
	extends = re.search(r'{%-?\s*extends\s+"([^"]+)"', source_of(path))
	assert extends and extends.group(1) in (
		"templates/snp_base.html",
		"templates/snp_portal.html",
	), path


def test_the_check_finds_a_block_that_does_not_escape():
	assert unescaped_parts('{% extends "a.html" %}{% block b %}{{ x }}{% endblock %}') == ["block b (line 1)"]
	assert unescaped_parts("{% macro m(x) %}{{ x }}{% endmacro %}<p></p>") == [
		"the template's top level",
		"macro m (line 1)",
	]
	assert unescaped_parts("{% autoescape true %}{{ x | safe }}{% endautoescape %}") == ["|safe on line 1"]
	assert not unescaped_parts(
		'{% extends "a.html" %}{% block b %}{% autoescape true %}{{ x }}{% endautoescape %}{% endblock %}'
	)
