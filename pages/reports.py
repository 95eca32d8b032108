"""Reports: recorded daily operations and weekly ads runs — read, download, or start one now."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.i18n import N_, _, ngettext, pgettext
from console.reports.daily_ops import run_daily_ops
from console.reports.runs import ReportRuns
from console.reports.weekly import run_weekly_report
from pages.components import empty_state, page_header, render_error
from pages.dashboard_kit import approvals_link
from pages.state import current_caller, get_runtime

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
# The table keeps these names and values (the codes); people read them through these labels.
HEADERS = {"run": N_("run"), "report": N_("report"), "site": N_("site"), "status": N_("status"),
           "started (UTC)": N_("started (UTC)"), "proposed": N_("proposed"), "refused": N_("refused"),
           "batch": N_("batch"), "by": N_("by")}
KINDS = {"daily": N_("Daily operations"), "weekly": N_("Weekly ads")}
KIND_WORDS = {"daily": N_("daily"), "weekly": N_("weekly")}
STATUSES = {"running": N_("running"), "succeeded": N_("succeeded"), "failed": N_("failed")}
RUNNING = {"daily": N_("Running the daily report…"), "weekly": N_("Running the weekly report…")}
page_header(pgettext("page", "Reports"), _("The daily operations run (sales, ads, inventory, reviews → report + proposed fixes) and "
                            "the weekly ads report. Cron runs `python -m console daily-ops`; you can also start one "
                            "here."))
runs = ReportRuns(runtime.engine)
sites = sorted(caller.sites)

with st.expander(_("Start a run"), icon=":material/play_arrow:"):
    cols = st.columns(3)
    kind = cols[0].selectbox(_("Report"), list(KINDS), format_func=lambda k: _(KINDS[k]), key="rep-kind")
    where = cols[1].selectbox(_("Sites"), ["all", *sites], key="rep-site",
                              format_func=lambda s: _("All my sites") if s == "all" else s.upper())
    propose = cols[2].toggle(_("File proposed fixes"), value=caller.has("seller"), disabled=not caller.has("seller"),
                             key="rep-propose",
                             help=_("Needs the seller role; fixes go to the Approvals queue as one batch."))
    if st.button(_("Run now"), type="primary", key="rep-run", icon=":material/play_arrow:"):
        chosen = sites if where == "all" else [where]
        with st.status(_(RUNNING[kind]), expanded=True) as status:
            bar = st.progress(0.0)
            try:
                if kind == "daily":
                    result = run_daily_ops(runtime, caller, sites=chosen, propose=propose and caller.has("seller"),
                                           progress=lambda done, text: bar.progress(min(done, 1.0), text=text))
                    run = result.run
                else:
                    run = run_weekly_report(runtime, caller, sites=chosen)
            except Exception as exc:
                status.update(label=_("The run failed"), state="error")
                render_error(exc)
            else:
                bar.progress(1.0, text=_("done"))
                status.update(label=_("Run {id} finished").format(id=run.id), state="complete")
                st.session_state["rep-open-select"] = run.id  # open the new report below
                if run.batch_id:
                    filed = int(run.summary.get("proposed", 0))
                    st.success(ngettext("{count} operation filed as batch `{batch}`.",
                                        "{count} operations filed as batch `{batch}`.", filed).format(
                                            count=filed, batch=run.batch_id))
                    approvals_link(caller)

try:
    listed = runs.list(sites=frozenset(sites), limit=100)
except Exception as exc:
    render_error(exc)
    st.stop()
if not listed:
    empty_state(_("No reports yet"), _("Start a run above, or schedule `python -m console daily-ops` in cron."))
    st.stop()

table = pd.DataFrame([{
    "run": r.id, "report": _(KIND_WORDS[r.kind]) if r.kind in KIND_WORDS else r.kind,
    "site": (r.site or _("all")).upper(), "status": _(STATUSES[r.status]) if r.status in STATUSES else r.status,
    "started (UTC)": r.started_at, "proposed": r.summary.get("proposed", 0), "refused": r.summary.get("refused", 0),
    "batch": r.batch_id or "", "by": r.requested_by,
} for r in listed])
st.dataframe(table, hide_index=True, width="stretch",
             column_config={name: st.column_config.Column(_(label)) for name, label in HEADERS.items()})

ids = [r.id for r in listed]
if st.session_state.get("rep-open-select") not in ids:
    st.session_state.pop("rep-open-select", None)
chosen_id = st.selectbox(_("Open a report"), ids, key="rep-open-select")
run = next(r for r in listed if r.id == chosen_id)
with st.container(border=True):
    if run.status == "failed":
        st.error(_("This run failed: {error}").format(error=run.error), icon=":material/error:")
    if run.batch_id:
        approvals_link(caller, _("Batch {batch} on the Approvals page").format(batch=run.batch_id))
    st.download_button(_("Download Markdown"), run.markdown.encode("utf-8"), file_name=run.filename,
                       mime="text/markdown", key="rep-download", icon=":material/download:",
                       disabled=not run.markdown)
    st.markdown(run.markdown or _("_No report text (the run did not finish)._"))
