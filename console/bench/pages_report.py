"""The printed tables of `python -m console bench pages`: milliseconds and ratios, one run."""

from __future__ import annotations

from typing import Any

READY = ("ready = the script finished (stApp data-test-script-state=notRunning) and no skeleton is left; "
         "ms on the page's own clock, from the click (or the sign-in, or the submit) to ready")


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def num(value: float | int | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _header(run: Any) -> list[str]:
    plan = run.plan
    where = (f"the console at {plan.url} (no audit counts: its database is not ours)" if plan.url else
             f"a console started by the benchmark on a copy of {run.market} ({plan.scale} scale)")
    return [f"bench pages: {where}; Chromium headless, 1440×1000", READY]


def _start(start: dict[str, float]) -> list[str]:
    if not start:
        return []
    page = start["page"]
    cpu = f"{start['ads_ready_cpu_s'] * 1e3:,.0f} ms" if "ads_ready_cpu_s" in start else "–"
    return ["", f"first dashboard after the app starts (spawn → {page} ready): {start['ads_ready_s'] * 1e3:,.0f} ms, "
                f"console CPU {cpu}; health check answering → {page} ready: "
                f"{(start['ads_ready_s'] - start['health_s']) * 1e3:,.0f} ms",
            f"  health check answers {start['health_s'] * 1e3:,.0f} ms (CPU {start['health_cpu_s'] * 1e3:,.0f}) · "
            f"sign-in page ready {start['sign_in_page_s'] * 1e3:,.0f} "
            f"(CPU {start['sign_in_page_cpu_s'] * 1e3:,.0f}) · "
            f"signed in {start['signed_in_s'] * 1e3:,.0f} (CPU {start['signed_in_cpu_s'] * 1e3:,.0f}) · "
            f"{page} itself {start['ads_ms']:,.0f} ms"]


def _pages(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = ["", "one fresh session per role: cold = first visit in the session (* the page it lands on: the sign-in "
                 "click → ready), warm = median of 3 later visits;",
             "CPU = CPU time for the load of the console with its MCP servers, and of the browser (steadier than wall "
             "time on a busy machine);",
             "reads = tool calls through the bridge (audit tool_call rows); audit = all audit rows the cold load "
             "wrote; charts = plotly charts on the page;",
             "KB = websocket bytes from the app",
             f"{'':24} {'---- wall ms -----':>27} {'console CPU':>13} {'browser CPU':>14} {'-- reads --':>11}",
             f"{'role':9} {'page':14} {'cold':>8} {'warm':>8} {'warm/cold':>9} {'cold':>6} {'warm':>6} {'cold':>7} "
             f"{'warm':>6} {'cold':>5} {'warm':>5} {'audit':>6} {'charts':>6} {'KB cold':>8} {'warm':>5}"]
    for r in rows:
        cold, warm = r.get("cold_ms"), r.get("warm_median_ms")
        warm_reads = [n for n in r.get("warm_reads", []) if n is not None]
        lines.append(
            f"{r['role']:9} {r['page'] + (' *' if r.get('landing') else '') + (' !' if r.get('error') else ''):14} "
            f"{ms(cold):>8} {ms(warm):>8} {ratio(warm / cold if cold and warm is not None else None):>9} "
            f"{num(r.get('cold_cpu_ms')):>6} {num(r.get('warm_median_cpu_ms')):>6} "
            f"{num(r.get('cold_browser_cpu_ms')):>7} {num(r.get('warm_median_browser_cpu_ms')):>6} "
            f"{num(r.get('cold_reads')):>5} {num(max(warm_reads) if warm_reads else None):>5} "
            f"{num(r.get('cold_audit_rows')):>6} {num(r.get('charts')):>6} {num(r.get('cold_kb')):>8} "
            f"{num(r.get('warm_kb')):>5}")
    return lines


def _interactions(items: list[dict[str, Any]]) -> list[str]:
    if not items:
        return []
    lines = ["", f"{'':64} {'---------- wall ms ----------':>29} {'console CPU':>13} {'browser CPU':>13}",
             f"{'interaction, 3 times (first: nothing cached yet)':64} {'first':>9} {'median':>9} {'-reads':>9} "
             f"{'first':>6} {'median':>6} {'first':>6} {'median':>6} {'reads first':>11}"]
    for i in items:
        lines.append(f"{i['what'][:64]:64} {ms(i['first_ms']):>9} {ms(i['median_ms']):>9} "
                     f"{ms(i.get('median_besides_reads_ms')):>9} "
                     f"{num(i.get('first_cpu_ms')):>6} {num(i.get('median_cpu_ms')):>6} "
                     f"{num(i.get('first_browser_cpu_ms')):>6} {num(i.get('median_browser_cpu_ms')):>6} "
                     f"{num(i['first_reads']):>11}")
    lines.append("-reads: the median wall time less the reads' own time (their result rows' durations), i.e. the "
                 "turn's overhead")
    return lines


def _concurrency(found: dict[str, Any]) -> list[str]:
    if not found:
        return []
    n = found["sessions"]
    lines = ["", f"{n} sessions at once ({found['users']}, each a fresh browser session; every page opened by all at "
                 "the same moment) against one session, same run",
             f"{'page':24} {'1 session ms':>12} {f'{n} sessions: median ms':>24} {'max ms':>8} {'median/1':>9}"]
    for p in found["pages"]:
        lines.append(f"{p['page']:24} {ms(p['one_ms']):>12} {ms(p['median_ms']):>24} {ms(p['max_ms']):>8} "
                     f"{ratio(p['ratio']):>9}")
    if cpu := found.get("cpu"):
        lines.append(f"CPU while the {n} ran ({cpu['wall_s']:,.0f} s): the console with its MCP servers "
                     f"{cpu['app_s']:,.0f} s, the browser side (Chromium, Playwright) {cpu['browser_s']:,.0f} s — "
                     "one machine plays both")
        if cpu.get("one_app_s"):
            each = cpu["app_s"] / n
            lines.append(f"app side: console CPU per session {cpu['one_app_s'] * 1e3:,.0f} ms alone, "
                         f"{each * 1e3:,.0f} ms each with {n} at once ({ratio(each / cpu['one_app_s'])})")
    return lines


def report(run: Any) -> str:
    lines = [*_header(run), *_start(run.start), *_pages(run.pages), *_interactions(run.interactions),
             *_concurrency(run.concurrency)]
    if run.log:
        lines += ["", f"app log: {run.log}"]
    failed = [f"  {r['role']} {r['page']}: the page shows an exception: {r['error']}"
              for r in run.pages if r.get("error")]
    if failed:
        lines += ["", "measured, but not a normal load (!):", *failed]
    if run.errors:
        lines += ["", "not measured:"] + [f"  {e}" for e in run.errors]
    return "\n".join(lines)
