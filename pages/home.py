"""Home: who you are, what you can do here, and what is waiting for you.

Navigation per role (app.py): seller → Chat, Ads, Inventory, Sales, Reports; manager → Ads, Inventory, Sales, Reports; approver → Approvals
and Audit; admin → everything (Admin, Gateway, Audit included). Everyone sees Home; nobody sees a site outside their scope.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from console import formatting
from console.gateway import monitoring
from console.i18n import N_, NC_, PAGE, _, pgettext
from pages.components import empty_state, kpi_tile, page_header, render_error
from pages.state import active_site, console_state, current_caller, get_runtime

PAGES = Path(__file__).parent
runtime = get_runtime()
caller = current_caller()
account = console_state().account

page_header(_("Welcome, {name}").format(name=account.name),
            _("Active site: {site} · sites in your scope: {sites}").format(
                site=(active_site() or "—").upper(), sites=", ".join(s.upper() for s in sorted(caller.sites))))

try:
    mine = runtime.bridge.gate.list(proposer=caller.user, sites=caller.sites, limit=200)
    waiting = runtime.bridge.gate.pending_count(caller) if caller.sites_with("approver") else None
except Exception as exc:
    render_error(exc)
    st.stop()

open_mine = [op for op in mine if op.status in ("pending", "proposed")]
cols = st.columns(3)
# Each counter opens its list (for those whose navigation has it): the number is where the work is.
with cols[0]:
    kpi_tile(_("My proposals waiting"), formatting.count(len(open_mine)),
             help=_("Changes you asked for, not yet decided"))
    if caller.has("seller") and (PAGES / "my_requests.py").exists() and st.button(
            _("Open My requests"), key="home-my-requests", icon=":material/outbox:", type="tertiary"):
        st.switch_page("pages/my_requests.py")
with cols[1]:
    kpi_tile(_("My proposals in total"), formatting.count(len(mine)))
with cols[2]:
    if waiting is not None:
        kpi_tile(_("Waiting for your approval"), formatting.count(waiting),
                 help=_("Pending operations on the sites where you approve"))
        if st.button(_("Open Approvals"), key="home-approvals", icon=":material/task_alt:", type="tertiary"):
            st.switch_page("pages/approvals.py")

if caller.has("admin"):  # the gateway's calls over a limit in the last hour (DESIGN.md §4, Gateway)
    try:
        flagged = monitoring.flags(runtime.engine)
    except Exception as exc:
        render_error(exc)
        flagged = []
    if flagged:
        st.subheader(_("Gateway flags"))
        st.warning(_("Over a limit in the last hour — p95 above {p95} or more than {errors} errors:").format(
                       p95=formatting.duration_ms(monitoring.P95_LIMIT_MS),
                       errors=formatting.percent(monitoring.ERROR_RATE_LIMIT, 0)) + "\n\n"
                   + "\n".join(f"- {monitoring.flag_text(f)}" for f in flagged[:8])
                   + ("\n- " + _("… and {count} more").format(count=len(flagged) - 8) if len(flagged) > 8 else ""),
                   icon=":material/monitor_heart:")
        st.page_link("pages/gateway.py", label=_("Open Gateway → Monitoring"), icon=":material/hub:")

st.subheader(_("Where to go"))
links = [  # page names and purposes translated where shown
    ("chat.py", NC_("page", "Chat"), ":material/forum:", "seller", N_("Ask about ads, orders and stock; propose changes.")),
    ("approvals.py", NC_("page", "Approvals"), ":material/task_alt:", "approver", N_("Approve or reject proposed changes.")),
    ("ads.py", NC_("page", "Ads"), ":material/campaign:", ("manager", "seller"), N_("Spend, sales, ACOS and alerts.")),
    ("inventory.py", NC_("page", "Inventory"), ":material/inventory_2:", ("manager", "seller"),
     N_("Days of supply and reorders.")),
    ("sales.py", NC_("page", "Sales"), ":material/payments:", ("manager", "seller"), N_("Revenue, orders and anomalies.")),
    ("reports.py", NC_("page", "Reports"), ":material/summarize:", ("manager", "seller"),
     N_("Daily operations and weekly reports.")),
    ("audit.py", NC_("page", "Audit"), ":material/policy:", "approver", N_("Every call and decision, verifiable.")),
    ("admin.py", NC_("page", "Admin"), ":material/admin_panel_settings:", "admin", N_("Users, servers and safety limits.")),
    ("gateway.py", NC_("page", "Gateway"), ":material/hub:", "admin",
     N_("Tool groups, API keys and monitoring for outside agents.")),
]
shown = 0
for file, label, icon, role, text in links:
    roles = (role,) if isinstance(role, str) else role
    if any(caller.has(r) for r in roles) and (PAGES / file).exists():
        st.page_link(f"pages/{file}", label=f"{pgettext(PAGE, label)} — {_(text)}", icon=icon)
        shown += 1
if not shown:
    empty_state(_("Nothing to open yet"), _("Ask an admin to grant you a role on the Admin page."))
