"""marketdesk: a self-hosted investing and trading desk.

The public Python API, for notebooks and scripts, grows with each domain:

>>> import marketdesk as md
>>> md.__version__
'0.1.0'
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("marketdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
