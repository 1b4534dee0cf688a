"""Security headers of the app's own web pages: the doctors' portal (/snp, /snp/…) and the public /permanences.

These pages are built on templates/snp_base.html, which loads only files of this site (Frappe's website CSS, the
app's CSS and public/js/snp_portal.js): no inline script, no inline style, no event handler attribute. Their
Content-Security-Policy forbids all of these, so text slipped into a page (a patient's name booked by a partner…)
cannot run as script there even if an escape were missed. Every other response (desk, API, Frappe's own pages)
is left exactly as Frappe makes it.
"""

CONTENT_SECURITY_POLICY = "; ".join(
	(
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		# Frappe's website CSS draws a few icons (select arrows, check boxes) as data: images
		"img-src 'self' data:",
		"object-src 'none'",
		"base-uri 'self'",
		"frame-ancestors 'self'",
		"form-action 'self'",
	)
)

HEADERS = {
	"Content-Security-Policy": CONTENT_SECURITY_POLICY,
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy": "same-origin",
}


def is_app_web_page(path: str | None) -> bool:
	"""The portal (/snp and below), the SAS booking link (/sas/…) and the public permanences page, with or
	without a trailing slash."""
	path = "/" + (path or "").strip("/")
	return path == "/snp" or path.startswith(("/snp/", "/sas/")) or path == "/permanences"


def add_security_headers(response=None, request=None) -> None:
	"""after_request hook: the app's pages get their security headers; nothing else is touched."""
	if response is None or request is None or not is_app_web_page(request.path):
		return
	for header, value in HEADERS.items():
		response.headers[header] = value
