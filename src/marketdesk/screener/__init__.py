"""The screener and research desk: metrics, gates, scores, regime, verdicts, DCF, tearsheets and dips."""
