"""Reports: recorded daily operations and weekly ads runs — read, download, or start one now."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.daily_ops import run_daily_ops
from console.report_runs import ReportRuns
from console.reports import run_weekly_report
from pages.components import empty_state, page_header, render_error
from pages.dashboard_kit import approvals_link
from pages.state import current_caller, get_runtime

runtime = get_runtime()
caller = current_caller(("manager", "seller"))
page_header("Reports", "The daily operations run (sales, ads, inventory, reviews → report + proposed fixes) and the "
            "weekly ads report. Cron runs `python -m console daily-ops`; you can also start one here.")
runs = ReportRuns(runtime.engine)
sites = sorted(caller.sites)

with st.expander("Start a run", icon=":material/play_arrow:"):
    cols = st.columns(3)
    kind = cols[0].selectbox("Report", ["daily", "weekly"], format_func={"daily": "Daily operations",
                                                                          "weekly": "Weekly ads"}.get, key="rep-kind")
    where = cols[1].selectbox("Sites", ["all", *sites], format_func=lambda s: "All my sites" if s == "all" else s.upper(),
                              key="rep-site")
    propose = cols[2].toggle("File proposed fixes", value=caller.has("seller"), disabled=not caller.has("seller"),
                             key="rep-propose", help="Needs the seller role; fixes go to the Approvals queue as one batch.")
    if st.button("Run now", type="primary", key="rep-run", icon=":material/play_arrow:"):
        chosen = sites if where == "all" else [where]
        with st.status(f"Running the {kind} report…", expanded=True) as status:
            bar = st.progress(0.0)
            try:
                if kind == "daily":
                    result = run_daily_ops(runtime, caller, sites=chosen, propose=propose and caller.has("seller"),
                                           progress=lambda done, text: bar.progress(min(done, 1.0), text=text))
                    run = result.run
                else:
                    run = run_weekly_report(runtime, caller, sites=chosen)
            except Exception as exc:
                status.update(label="The run failed", state="error")
                render_error(exc)
            else:
                bar.progress(1.0, text="done")
                status.update(label=f"Run {run.id} finished", state="complete")
                st.session_state["rep-open-select"] = run.id  # open the new report below
                if run.batch_id:
                    st.success(f"{run.summary.get('proposed', 0)} operations filed as batch `{run.batch_id}`.")
                    approvals_link(caller)

try:
    listed = runs.list(sites=frozenset(sites), limit=100)
except Exception as exc:
    render_error(exc)
    st.stop()
if not listed:
    empty_state("No reports yet", "Start a run above, or schedule `python -m console daily-ops` in cron.")
    st.stop()

table = pd.DataFrame([{
    "run": r.id, "report": r.kind, "site": (r.site or "all").upper(), "status": r.status,
    "started (UTC)": r.started_at, "proposed": r.summary.get("proposed", 0), "refused": r.summary.get("refused", 0),
    "batch": r.batch_id or "", "by": r.requested_by,
} for r in listed])
st.dataframe(table, hide_index=True, width="stretch")

ids = [r.id for r in listed]
if st.session_state.get("rep-open-select") not in ids:
    st.session_state.pop("rep-open-select", None)
chosen_id = st.selectbox("Open a report", ids, key="rep-open-select")
run = next(r for r in listed if r.id == chosen_id)
with st.container(border=True):
    if run.status == "failed":
        st.error(f"This run failed: {run.error}", icon=":material/error:")
    if run.batch_id:
        approvals_link(caller, f"Batch {run.batch_id} on the Approvals page")
    st.download_button("Download Markdown", run.markdown.encode("utf-8"), file_name=run.filename,
                       mime="text/markdown", key="rep-download", icon=":material/download:",
                       disabled=not run.markdown)
    st.markdown(run.markdown or "_No report text (the run did not finish)._")
