"""Models, one module per boundary: inbound events, domain, queue messages, table items, outbound events."""
