"""Every ORM table of every domain, imported in one place so Alembic and tests see the whole schema.

A new domain adds its `models` import here.
"""

from marketdesk.accounts import models as accounts_models
from marketdesk.audit import models as audit_models
from marketdesk.db import Base
from marketdesk.decisions import models as decisions_models
from marketdesk.journal import models as journal_models
from marketdesk.marketdata import models as marketdata_models
from marketdesk.portfolio import models as portfolio_models
from marketdesk.trading import models as trading_models
from marketdesk.trading import paper_models as paper_trading_models
from marketdesk.vault import models as vault_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "audit_models",
    "decisions_models",
    "journal_models",
    "marketdata_models",
    "metadata",
    "paper_trading_models",
    "portfolio_models",
    "trading_models",
    "vault_models",
]
