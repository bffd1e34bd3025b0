"""The audit log: a middleware records every API request; admins read it at /api/v1/audit."""

from dealscope.api.audit.middleware import AuditMiddleware
from dealscope.api.audit.records import AuditRecord, add_audit_detail, note_audit_actor

__all__ = ["AuditMiddleware", "AuditRecord", "add_audit_detail", "note_audit_actor"]
