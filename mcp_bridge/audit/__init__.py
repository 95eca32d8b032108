"""Audit: the keyed, anchored chain of every call and decision, its writer, the call log of reads, archives, verify.

Owns the row format and MAC, the appender, checkpoints to the anchor, archive files, and `verify`. Imports only the
floor (`store`, `scrub`, `types`, `errors`); everything else writes through `AuditLog` and `CallLog`.
"""

from mcp_bridge.audit.anchor import ANCHOR_FILE, AnchorStore, open_anchor
from mcp_bridge.audit.archive import Archived
from mcp_bridge.audit.archive_files import ARCHIVE_DIR
from mcp_bridge.audit.call_log import CallLog
from mcp_bridge.audit.log import AuditLog
from mcp_bridge.audit.rows import Appended, Entry, entry
from mcp_bridge.audit.verify import Problem, VerifyResult

__all__ = ["ANCHOR_FILE", "ARCHIVE_DIR", "Appended", "AnchorStore", "Archived", "AuditLog", "CallLog", "Entry",
           "Problem", "VerifyResult", "entry", "open_anchor"]
