"""Small shared building blocks: Decimal money types, ids and time helpers."""

from marketdesk.kit.money import Money, Price, Qty, to_decimal

__all__ = ["Money", "Price", "Qty", "to_decimal"]
