"""Alembic environment of the console database (every module that adds console tables is imported here)."""

import importlib
import importlib.util

from alembic import context

from mcp_bridge.store import Base, make_engine

# Modules whose tables live in the console database; each revision's owner adds theirs.
MODEL_MODULES = ("mcp_bridge.store", "console.models", "mcp_bridge.pins", "mcp_bridge.conversations",
                 "console.report_runs")
for _name in MODEL_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name)

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection") or make_engine(config.get_main_option("sqlalchemy.url"))
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    else:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
