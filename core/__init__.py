"""Shared kernel: errors and their wire form, schema wire framing, typed ids, config."""
