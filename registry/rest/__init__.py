"""Confluent-compatible Schema Registry REST API over the same SchemaRegistry as gRPC."""
