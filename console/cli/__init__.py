"""Command groups of `python -m console`; each module exposes `register(subparsers)`."""

GROUPS = ("setup", "serve", "users", "ops", "audit", "tools", "chat", "daily_ops", "reports", "bench", "secrets",
          "gateway", "i18n", "agent")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command (in this process)."""
    import argparse
    import importlib

    from console.logs import configure_logging

    configure_logging()
    parser = argparse.ArgumentParser(prog="python -m console", description="Operator console command line.")
    sub = parser.add_subparsers(dest="group", required=True)
    for name in GROUPS:
        try:
            module = importlib.import_module(f"console.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"console.cli.{name}":
                raise
            continue
        module.register(sub)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)
