"""marketdesk: a self-hosted investing and trading desk.

The public Python API, for notebooks and scripts:

>>> import marketdesk as md
>>> md.__version__
'0.1.0'
>>> top = md.screen("balanced", "pe < 25 and roe > 0.15", limit=10)  # doctest: +SKIP
>>> sheet = md.tearsheet("AAPL")  # doctest: +SKIP
>>> falling = md.dips(10)  # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("marketdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "dips", "screen", "tearsheet"]


def __getattr__(name: str) -> Any:
    # the API pulls in the whole desk; import it only when first used, so `import marketdesk` stays light
    if name in {"screen", "tearsheet", "dips"}:
        from marketdesk import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'marketdesk' has no attribute {name!r}")
