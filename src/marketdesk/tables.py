"""Every ORM table of every domain, imported in one place so Alembic and tests see the whole schema.

A new domain adds its `models` import here.
"""

from marketdesk.db import Base
from marketdesk.marketdata import models as marketdata_models

metadata = Base.metadata

__all__ = ["marketdata_models", "metadata"]
