"""`marketdesk trade buy … --tp P --sl P` against a running desk: the bracket reaches the paper venue, and once
the entry fills on the simulated market its two exits are listed by `marketdesk trade orders`."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from support.servers import first_admin_token, running_desk
from support.trading_cli import SMALL_DESK, trade


@pytest.mark.slow
def test_a_bracket_bought_from_the_cli_shows_its_two_exits_once_it_fills(runner: CliRunner, tmp_path: Path) -> None:
    with running_desk(tmp_path, SMALL_DESK) as desk:
        token = first_admin_token(desk.url)
        headers = {"Authorization": f"Bearer {token}"}
        symbol = httpx.get(f"{desk.url}/api/v1/symbols", params={"asset_class": "equity", "limit": 1},
                           headers=headers).json()["items"][0]["symbol"]  # fmt: skip
        last = Decimal(str(httpx.get(f"{desk.url}/api/v1/quotes/{symbol}", headers=headers).json()["last"]))
        take_profit, stop_loss = (last * Decimal("1.5")).quantize(Decimal("0.01")), (last / 2).quantize(Decimal("0.01"))

        code, placed, err = trade(runner, desk.url, token, "buy", symbol, "1", "--tp", str(take_profit),
                                  "--sl", str(stop_loss))  # fmt: skip
        assert code == 0, err
        entry = placed["client_order_id"]  # type: ignore[index]
        deadline = time.monotonic() + 30
        rows: list[dict[str, str]] = []
        while time.monotonic() < deadline:  # the paper venue fills the entry on the next tick, then places the exits
            _, listed, _ = trade(runner, desk.url, token, "orders")
            rows = listed  # type: ignore[assignment]
            if {f"{entry}-tp", f"{entry}-sl"} <= {r["client_order_id"] for r in rows}:
                break
            time.sleep(0.2)
        by_id = {r["client_order_id"]: r for r in rows}
        assert by_id[entry]["status"] == "filled", rows
        assert (by_id[f"{entry}-tp"]["type"], by_id[f"{entry}-tp"]["side"]) == ("limit", "sell")
        assert (by_id[f"{entry}-sl"]["type"], by_id[f"{entry}-sl"]["side"]) == ("stop", "sell")
        assert Decimal(by_id[f"{entry}-tp"]["limit_price"]) == take_profit
        assert Decimal(by_id[f"{entry}-sl"]["stop_price"]) == stop_loss
