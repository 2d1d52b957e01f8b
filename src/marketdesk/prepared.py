"""Prepared statements for the hot paths: a Core statement compiled once per dialect and run on the driver's
connection, inside the session's transaction.

SQLAlchemy's execution layer (contexts, result objects, the asyncio bridge's greenlet hop) costs 50–100 µs per
statement; a local SQLite statement costs about 10 µs. The order path runs about 25 statements per order, so
that layer was most of its time (bench/bench_order_path.py). A `Prepared` keeps what matters of SQLAlchemy:
the statement is still written in Core against the ORM's tables, compiled by the dialect (SQL text, parameter
order) with the column types' own converters (exact decimals, UTC times, booleans), so the stored values are
exactly what SQLAlchemy would store, and rows come back converted the same way. What it skips is per-call
bookkeeping.

Where it runs:
- `sqlite+marketdesk` (the desk's SQLite): on the `sqlite3` connection, through the driver's `retrying` (a lock
  held by another writer is waited for with `asyncio.sleep`, never by blocking the loop);
- any other driver (asyncpg for PostgreSQL; aiosqlite, the benchmark's baseline): through SQLAlchemy's
  `Connection.execute`, with the statement still built only once. asyncpg needs its own type handling for
  parameters, which SQLAlchemy's dialect does; a round trip to the server costs more than that layer.

Statements with expanding parameters (`IN` lists) are not supported: write them with the session.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import iterate
from sqlalchemy.util import greenlet_spawn

from marketdesk.sqlite_driver import InlineConnection, busy

Parameters = Mapping[str, Any]
Converter = Callable[[Any], Any] | None


class _Form:
    """One compiled form of a statement for one dialect (and, for an UPDATE, one set of columns to set)."""

    __slots__ = ("binds", "defaults", "names", "parameters", "positional", "results", "row", "sql")

    def __init__(self, compiled: SQLCompiler, statement: Any, dialect: Dialect) -> None:
        self.sql = compiled.string
        self.positional = dialect.positional
        positions: Sequence[str] | None = getattr(compiled, "positiontup", None)
        self.names = tuple(positions) if positions is not None else tuple(compiled.binds)
        processors: Mapping[str, Any] = compiled._bind_processors
        sqlite = dialect.name == "sqlite"  # the inline driver's: a type may offer one-call converters
        self.binds = tuple(
            (
                name,
                (sqlite and _sqlite_converter(getattr(compiled.binds.get(name), "type", None), 0))
                or processors.get(name),
            )
            for name in self.names
        )
        # values the statement carries itself (literals such as `status.in_(("new", "accepted"))` or a LIMIT),
        # and columns it sets from their scalar `default=` when the parameters leave them out
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared statement takes no IN list; write `col.in_([bindparam(..., value), …])`")
        required = {name for name, bind in compiled.binds.items() if bind.required}
        self.defaults: dict[str, Any] = {
            name: value for name, value in compiled.construct_params(_check=False).items() if name not in required
        }
        for column in compiled.insert_prefetch:
            if column.default is None or not column.default.is_scalar:
                raise ValueError(f"{column} has a default a prepared statement cannot compute; pass it")
            self.defaults[column.key] = column.default.arg  # type: ignore[attr-defined]
        if compiled.update_prefetch:
            raise ValueError(f"{compiled.update_prefetch[0]} is set on update; prepared statements do not do that")
        columns = getattr(statement, "selected_columns", None)
        if columns is None:  # an INSERT/UPDATE/DELETE: its RETURNING columns, if any
            columns = getattr(statement, "_returning", None) or ()
        self.results: tuple[Converter, ...] = tuple(
            (sqlite and _sqlite_converter(column.type, 1)) or column.type._cached_result_processor(dialect, None)
            for column in columns
        )
        # `parameters(values)`: the driver's parameters for a mapping of values (defaults where it leaves one
        # out), and `row(raw)`: a fetched row converted; each a function written for this form, since a loop
        # over the binds cost more than the statement itself
        self.parameters: Callable[[Parameters], Any] = _binder(self.binds, self.defaults, self.positional)
        self.row: Callable[[Sequence[Any]], tuple[Any, ...]] = _reader(self.results)


def _binder(binds: Sequence[tuple[str, Converter]], defaults: Mapping[str, Any], positional: bool) -> Any:
    """A function from a mapping of values to the driver's parameters: `[values["a"], c1(values["b"]), …]`
    (a dict for a named paramstyle), a missing value taken from `defaults`, each converted by its bind's
    processor."""
    scope: dict[str, Any] = {}
    items = []
    for index, (name, converter) in enumerate(binds):
        if name in defaults:
            scope[f"d{index}"] = defaults[name]
            value = f"values.get({name!r}, d{index})"
        else:
            value = f"values[{name!r}]"
        if converter is not None:
            scope[f"c{index}"] = converter
            value = f"c{index}({value})"
        items.append(value if positional else f"{name!r}: {value}")
    body = f"[{', '.join(items)}]" if positional else f"{{{', '.join(items)}}}"
    exec(f"def parameters(values):\n    return {body}\n", scope)  # noqa: S102 (built from bind names above)
    return scope["parameters"]


def _reader(converters: Sequence[Converter]) -> Any:
    """A function converting a fetched row: `(raw[0], c1(raw[1]), …)`."""
    scope: dict[str, Any] = {}
    items = []
    for index, converter in enumerate(converters):
        if converter is None:
            items.append(f"raw[{index}]")
        else:
            scope[f"c{index}"] = converter
            items.append(f"c{index}(raw[{index}])")
    exec(f"def row(raw):\n    return ({', '.join(items)}{',' if len(items) == 1 else ''})\n", scope)  # noqa: S102
    return scope["row"]


def _sqlite_converter(type_: Any, which: int) -> Converter:
    """A column type's own converter for SQLite, bind (0) or result (1), when it has one: `sqlite_converters()`,
    which stores and reads exactly what its SQLAlchemy processors do, in one call (`marketdesk.db.ExactDecimal`,
    `UTCDateTime`); None: SQLAlchemy's."""
    converters = getattr(type_, "sqlite_converters", None)
    return None if converters is None else converters()[which]


class Direct:
    """A transaction's connection opened for prepared statements: the dialect, and the inline SQLite driver's
    connection when it is one (None: statements go through SQLAlchemy's `Connection.execute`)."""

    __slots__ = ("dialect", "driver", "sync")

    driver: InlineConnection | None
    sync: Connection | None

    def __init__(self, sync: Connection) -> None:
        self.sync = sync
        self.dialect = sync.dialect
        driver = sync.connection.driver_connection  # no I/O: the connection is checked out already
        self.driver = driver if isinstance(driver, InlineConnection) else None

    @classmethod
    def inline(cls, dialect: Dialect, driver: InlineConnection) -> Direct:
        """A `sqlite3` connection of the desk's own (`marketdesk.unit.InlinePool`), with no SQLAlchemy
        connection around it."""
        direct = cls.__new__(cls)
        direct.sync, direct.dialect, direct.driver = None, dialect, driver
        return direct

    def _sync(self) -> Connection:
        if self.sync is None:  # never: an inline Direct has a driver, and only driverless ones come here
            raise RuntimeError("this connection runs prepared statements only")
        return self.sync

    @classmethod
    async def of(cls, unit: AsyncSession | AsyncConnection) -> Direct:
        """The connection of a session's transaction (begun if need be), or a connection itself."""
        connection = await unit.connection() if isinstance(unit, AsyncSession) else unit
        sync = connection.sync_connection
        if sync is None:  # never: a session hands out started connections
            raise RuntimeError("the session's connection is not started")
        return cls(sync)


class Prepared:
    """A Core statement compiled once per dialect. `await p.rows(direct, {...})` runs a query,
    `await p.run(direct, {...})` a write, `run_many` one write per parameter set.

    An INSERT or UPDATE built without `.values()` sets the columns named by the parameters that are not bound
    in its WHERE clause (as `Connection.execute` does); each such set of columns is compiled once."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        criteria = getattr(statement, "_where_criteria", ())
        self._own = frozenset(e.key for c in criteria for e in iterate(c) if isinstance(e, BindParameter))
        self._sets_columns = bool(getattr(statement, "is_dml", False)) and not getattr(statement, "_values", None)
        self._forms: dict[tuple[str, frozenset[str] | None], _Form] = {}
        self._by_names: dict[tuple[str, tuple[str, ...] | None], _Form] = {}  # the same, by the parameters' names

    def form(self, dialect: Dialect, values: Parameters | None = None) -> _Form:
        names = tuple(values) if self._sets_columns and values is not None else None
        found = self._by_names.get((dialect.name, names))  # a caller passes the same names each time
        if found is None:
            columns = None if names is None else frozenset(k for k in names if k not in self._own)
            found = self._forms.get((dialect.name, columns))
            if found is None:
                # for_executemany: no RETURNING of generated keys added behind our back (PostgreSQL would)
                compiled: SQLCompiler = self.statement.compile(  # type: ignore[attr-defined]
                    dialect=dialect, column_keys=None if columns is None else sorted(columns), for_executemany=True
                )
                found = self._forms[(dialect.name, columns)] = _Form(compiled, self.statement, dialect)
            self._by_names[(dialect.name, names)] = found
        return found

    async def rows(self, direct: Direct, values: Parameters) -> list[tuple[Any, ...]]:
        """The rows of a query (or of a write's RETURNING), each value converted by its column's type."""
        driver = direct.driver
        if driver is None:
            result = await greenlet_spawn(direct._sync().execute, self.statement, dict(values))
            return [tuple(r) for r in result]
        form = self.form(direct.dialect, values)
        parameters = form.parameters(values)
        try:
            try:  # at once: the lock is free (or this transaction holds it) nearly always
                cursor = driver.raw.execute(form.sql, parameters)
            except sqlite3.OperationalError as exc:
                if not busy(exc):
                    raise
                cursor = await driver.retrying(driver.raw.execute, form.sql, parameters)  # wait for the writer
            fetched = cursor.fetchall()
        except direct.dialect.loaded_dbapi.Error as exc:
            raise _raised_as_sqlalchemy(direct.dialect, form, parameters, exc) from exc
        row = form.row
        return [row(r) for r in fetched]

    async def run(self, direct: Direct, values: Parameters) -> int:
        """Run a write; the number of rows it changed."""
        return await self.run_many(direct, (values,))

    async def run_many(self, direct: Direct, values: Sequence[Parameters]) -> int:
        """Run a write once per parameter set (every set names the same columns); the rows changed."""
        if not values:
            return 0
        driver = direct.driver
        if driver is None:
            result = await greenlet_spawn(direct._sync().execute, self.statement, [dict(v) for v in values])
            return int(result.rowcount)
        form = self.form(direct.dialect, values[0])
        raw = driver.raw
        call: Callable[[str, Any], sqlite3.Cursor]
        if len(values) == 1:
            call, parameters = raw.execute, form.parameters(values[0])
        else:
            call, parameters = raw.executemany, [form.parameters(v) for v in values]
        try:
            try:  # as in `rows`
                cursor = call(form.sql, parameters)
            except sqlite3.OperationalError as exc:
                if not busy(exc):
                    raise
                cursor = await driver.retrying(call, form.sql, parameters)
            return int(cursor.rowcount)
        except direct.dialect.loaded_dbapi.Error as exc:
            raise _raised_as_sqlalchemy(direct.dialect, form, parameters, exc) from exc


def _raised_as_sqlalchemy(dialect: Dialect, form: _Form, parameters: Any, exc: Exception) -> Exception:
    """A driver error as SQLAlchemy raises it (`sqlalchemy.exc.IntegrityError`, `OperationalError`…), so
    callers of prepared statements and of the ORM see one kind."""
    return DBAPIError.instance(form.sql, parameters, exc, dialect.loaded_dbapi.Error)
