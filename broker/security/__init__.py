"""Security: TLS and mTLS, authentication (client certificates, bearer tokens), Kafka-model
ACLs stored on the compacted ``__acls`` topic, and the audit log of admin changes.

Everything here is off by default: with no TLS files, no tokens file and ``acl_enabled``
false the server behaves exactly as before (only the audit log is written).
"""
