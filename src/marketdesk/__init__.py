"""marketdesk: a self-hosted investing and trading desk.

The public Python API, for notebooks and scripts:

>>> import marketdesk as md
>>> md.__version__
'0.1.0'
>>> top = md.screen("balanced", "pe < 25 and roe > 0.15", limit=10)  # doctest: +SKIP
>>> sheet = md.tearsheet("AAPL")  # doctest: +SKIP
>>> falling = md.dips(10)  # doctest: +SKIP

One desk kept open, for trading from a notebook or a strategy (every order takes the desk's one road to the
broker: risk engine, compliance, then the broker):

>>> with md.Desk() as desk:  # doctest: +SKIP
...     verdict = desk.preview("BUY 10 AAPL")  # risk and compliance, nothing placed
...     order = desk.buy("AAPL", 10)  # waits for the fill at the next tick
...     held = desk.positions()  # a DataFrame

Performance measures of a return series (a pandas Series of simple returns, or a DataFrame of many):

>>> numbers = md.metrics(daily_returns, benchmark=spy_returns)  # doctest: +SKIP
>>> numbers["sharpe"], numbers["max_drawdown"], numbers["beta"]  # doctest: +SKIP
"""

import importlib
import types
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marketdesk.notebook_desk import Desk

try:
    __version__ = version("marketdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["Desk", "__version__", "dips", "metrics", "portfolio", "screen", "tearsheet"]


class _PortfolioPackage(types.ModuleType):
    """`marketdesk.portfolio` is the portfolio domain's package; calling it is the notebook's `md.portfolio(...)`
    (`marketdesk.notebook.portfolio`). A package attribute wins over `__getattr__`, so the call lives here."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from marketdesk.notebook import portfolio

        return portfolio(*args, **kwargs)


importlib.import_module("marketdesk.portfolio").__class__ = _PortfolioPackage  # its __init__ imports nothing


def __getattr__(name: str) -> Any:
    # the API pulls in the whole desk; import it only when first used, so `import marketdesk` stays light
    if name in {"screen", "tearsheet", "dips"}:
        from marketdesk import notebook

        return getattr(notebook, name)
    if name == "metrics":
        from marketdesk.analytics import metrics

        return metrics
    if name == "Desk":
        from marketdesk.notebook_desk import Desk

        return Desk
    raise AttributeError(f"module 'marketdesk' has no attribute {name!r}")
