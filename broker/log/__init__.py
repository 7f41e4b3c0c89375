"""The log storage engine behind the ``LogStore`` interface (pure: no grpc, no weir.v1)."""
