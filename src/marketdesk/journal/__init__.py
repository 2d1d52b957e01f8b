"""Journals: the thesis journal (why you own something and whether the reason still holds), the trade journal
(round trips from a trading account's fills, with statistics) and the market calls journal (calls with a due
date that resolve themselves from prices). See docs/journal.md."""
