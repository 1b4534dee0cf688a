"""People's and organisations' names as typed: no markup, no invisible characters. Pure functions, no database.

A name is shown on the portal, the public page, the desk, e-mails and PDF statements: it may hold letters of any
language with their accents, apostrophes (’ or '), hyphens, dots, spaces, digits and « & » (« Pharmacie Martin & Fils »),
never `<` or `>` (markup: refused, whoever sends it) nor control or formatting characters (tabs, line breaks,
zero-width or right-to-left marks pasted with a name: a control character counts as a space, a formatting one is
dropped, and a run of spaces becomes one).
"""

import re
import unicodedata

MARKUP = re.compile(r"[<>]")
SPACES = re.compile(r"\s+")


# Unicode categories: Cc control characters (tab, line break, NUL…), Cf formatting ones (zero-width space,
# right-to-left override…)
REPLACEMENT = {"Cc": " ", "Cf": ""}


def clean_name(value: str | None) -> str:
	"""The name without control or formatting characters, its spaces trimmed and collapsed to one."""
	text = "".join(REPLACEMENT.get(unicodedata.category(c), c) for c in (value or ""))
	return SPACES.sub(" ", text).strip()


def has_markup(value: str | None) -> bool:
	"""Whether a name holds `<` or `>`: no person's or partner's name does, markup does."""
	return bool(MARKUP.search(value or ""))
