"""Analytics: KPIs from the event log, supervision alerts, reports and red/black flags."""
