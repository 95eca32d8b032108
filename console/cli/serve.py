"""`python -m console serve [streamlit run options…]`: the app, warm before its first visitor.

The same server as `streamlit run app.py` (`.streamlit/config.toml` and every `--server.*` option hold), in this
process, while a thread imports what the pages use and makes the process runtime: the MCP servers start with the app,
and the first person to open a page does not wait for them (nor for pandas and plotly to load).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
import threading
import time

from console.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
APP = PROJECT_ROOT / "app.py"
# What a first page run would otherwise import: the libraries and console modules the pages use (the runtime brings
# the rest of the console, the bridge and the MCP SDK). Not pages/ itself: it is the app's, and loads in milliseconds.
WARM_MODULES = (
    "pandas", "pandas.io.formats.style", "plotly.graph_objects", "pyarrow",
    "console.auth", "console.chat_service", "console.formatting", "console.dashboards.charts",
    "console.dashboards.search", "console.dashboards.tables", "console.dashboards.tiles", "console.reports.alerts",
    "console.reports.weekly", "console.gateway.monitoring",
)


def register(sub: argparse._SubParsersAction) -> None:
    # Every argument goes to `streamlit run` unread: '+' as the prefix keeps argparse from taking `--server.port`
    # (or `-h`) for an option of its own.
    parser = sub.add_parser("serve", prefix_chars="+", add_help=False,
                            help="run the app (as `streamlit run app.py`, same options) with its MCP servers started")
    parser.add_argument("streamlit_args", nargs=argparse.REMAINDER)
    parser.set_defaults(run=run)


def warm_up() -> None:
    """Import the pages' libraries and make the process runtime; a failure is logged and left to the first page,
    which meets it again and shows it."""
    from console.runtime import process_runtime

    started = time.perf_counter()
    try:
        process_runtime(Settings())  # first: the servers then spawn (other cores) while the imports run
        for name in WARM_MODULES:
            importlib.import_module(name)
        gc.freeze()  # the modules too are for the life of the process: out of the collector's way, as the runtime
    except Exception as exc:  # the server keeps serving: the first page tries again and shows the error
        log.error("console warm-up failed, the first page will show it: %s: %s", type(exc).__name__,
                  getattr(exc, "message", None) or exc)
        return
    log.info("console warm in %.1f s", time.perf_counter() - started)


def show_console_logs() -> None:
    """The console's own records (INFO and up) on stderr beside Streamlit's; Streamlit's loggers keep their handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    for name in ("console", "mcp_bridge"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def run(args: argparse.Namespace) -> int:
    # The launcher is the one place outside app.py and pages/ that touches Streamlit: it starts it, draws nothing.
    # Imported before the warm-up starts: Streamlit's import peeks at a half-imported pandas (plotly's optional import).
    from streamlit.web import cli

    show_console_logs()
    if not {"-h", "--help"} & set(args.streamlit_args):  # only the help: nothing to warm
        threading.Thread(target=warm_up, name="console-warm-up", daemon=True).start()
    cli.main(["run", str(APP), *args.streamlit_args], prog_name="streamlit")  # serves until stopped; exits itself
    return 0
