"""The few HTML pages of the gateway's sign-in: demo user picker, consent, and errors that say what to do.

Each page speaks the language given (`lang`, from the browser's Accept-Language: `language_from_accept`), else the
language of the request (`console.i18n.use`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

from console.auth import Account
from console.gateway.consent import Consent, PendingRequest
from console.gateway.groups import Group
from console.i18n import N_, _, current, ngettext, speaking

HEADERS = {
    "Cache-Control": "no-store",
    # Framing the consent page would let another site trick a click on Allow.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # request ids travel in these URLs
}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222;"
         "line-height:1.45}h1{font-size:1.4rem}dt{font-weight:600;margin-top:.6rem}dd{margin:0}"
         "button{font-size:1rem;padding:.45rem 1.1rem;margin:.8rem .6rem 0 0;cursor:pointer}"
         ".note{color:#555;font-size:.9rem}.demo{background:#fff3cd;padding:.5rem .8rem;border-radius:4px}")
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
# The titles the sign-in flow gives error_page, translated there.
ERROR_TITLES = (N_("Sign-in refused"), N_("Sign-in failed"))
ROLE_NAMES = {"seller": N_("seller"), "manager": N_("manager"), "approver": N_("approver"), "admin": N_("admin")}


def page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    """A complete page in the current language; `body` is HTML whose every value was escaped by the caller."""
    html = (f'<!doctype html><html lang="{HTML_LANG.get(current(), "en")}"><head><meta charset="utf-8">'
            f'<title>{escape(title)}</title><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def error_page(title: str, message: str, *, status: int = 400, retry_url: str | None = None,
               lang: str | None = None) -> HTMLResponse:
    with speaking(lang or current()):
        retry = (f'<p><a href="{escape(retry_url)}">{escape(_("Sign in with another account"))}</a></p>'
                 if retry_url else "")
        note = _("You can close this window and connect again from your MCP client.")
        return page(_(title), f"<p>{escape(message)}</p>{retry}<p class=note>{escape(note)}</p>", status=status)


def demo_page(request: PendingRequest, accounts: Sequence[Account], *, lang: str | None = None) -> HTMLResponse:
    """The demo sign-in: pick one of the seeded demo users (only without [auth], never in production)."""
    with speaking(lang or current()):
        buttons = "".join(
            f'<form method="post" action="/signin/demo"><input type="hidden" name="request" '
            f'value="{escape(request.id)}"><input type="hidden" name="email" value="{escape(a.email)}">'
            f'<button type="submit">{escape(_account(a))}</button></form>' for a in accounts)
        notice = _("Demo sign-in: no identity provider is configured, so you pick a demo user. Configure [auth] in "
                   ".streamlit/secrets.toml for real sign-in.")
        wants = _("{client} wants to use {tools} for you.").format(client=request.client_name, tools=_what(request))
        return page(_("Sign in to the operator console (demo)"),
                    f"<p class=demo>{escape(notice)}</p><p>{escape(wants)}</p>{buttons}")


def consent_page(consent: Consent, *, lang: str | None = None) -> HTMLResponse:
    """Ask the signed-in person whether the client may act for them; Allow and Deny post the signed form."""
    request, person = consent.request, consent.person
    fields = "".join(f'<input type="hidden" name="{name}" value="{escape(value)}">'
                     for name, value in (("request", request.id), ("form_token", consent.form_token)))
    with speaking(lang or current()):
        wants = _("{client} wants to act for you.").format(client=f"<strong>{escape(request.client_name)}</strong>")
        returns = _("{client} — returns to {host}").format(
            client=request.client_name, host=urlsplit(request.redirect_uri).netloc or request.redirect_uri)
        rows = ((_("You"), f"{person.name or person.email} ({person.email})"), (_("Application"), returns),
                (_("Tools"), _("{tools}: {which}").format(tools=_what(request), which=_tools(request.group))),
                (_("Sites it will reach"), ", ".join(consent.sites)))
        listed = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in rows)
        allow, deny = escape(_("Allow")), escape(_("Deny"))
        note = escape(_("Only allow an application you started yourself."))
        return page(_("Allow access to the operator console?"), (
            f"<p>{wants}</p><dl>{listed}</dl>"
            f'<form method="post" action="/consent">{fields}'
            f'<button type="submit" name="decision" value="allow">{allow}</button>'
            f'<button type="submit" name="decision" value="deny">{deny}</button></form>'
            f"<p class=note>{note}</p>"))


def _account(account: Account) -> str:
    roles = ", ".join(_(ROLE_NAMES[r]) if r in ROLE_NAMES else r for r in sorted(account.roles)) or _("no role")
    sites = ", ".join(sorted(account.sites)) or _("no site")
    return _("{name} — {email} ({roles}; {sites})").format(name=account.name, email=account.email, roles=roles,
                                                          sites=sites)


def _what(request: PendingRequest) -> str:
    if request.group is None:
        return _("your operator console tools")
    return _("the tool group {name} ({code})").format(name=request.group.name, code=request.group.code)


def _tools(group: Group | None) -> str:
    if group is None:
        return _("every tool your roles allow; changes wait for an approver")
    count = len(group.enabled_tools)
    writes = _("may propose changes, each waiting for an approver") if group.writes else _("read only")
    return ngettext("{count} tool, {writes}", "{count} tools, {writes}", count).format(count=count, writes=writes)
