"""Schema registry: formats, compatibility engine, registry service and its store."""
