"""Alembic environment of the console database (every module that adds console tables is imported here)."""

from alembic import context

from console.migrations import load_models
from mcp_bridge.store import make_engine

config = context.config
target_metadata = load_models()


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
