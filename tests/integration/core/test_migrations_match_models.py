"""The Alembic migrations build exactly the schema the ORM models declare: a model changed without a migration
fails here instead of at a user's `marketdesk up`."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from marketdesk.db import upgrade
from marketdesk.tables import metadata


def test_migrations_at_head_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations differ; run alembic revision --autogenerate: {differences}"
    assert {"orders", "fills", "trading_accounts", "users", "audit_log"} <= set(metadata.tables)
