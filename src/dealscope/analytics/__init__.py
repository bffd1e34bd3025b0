"""Analytics: periods, the metric registry, queries and models; reached through `service`."""
