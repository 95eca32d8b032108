"""Gate and tokens: a write becomes a pending operation, runs once after a person approves it, or is reconciled.

Owns operations (propose, dedupe by intent, approve, edit, reject, expire, reconcile, resolve) and the approval
tokens it has signed for contract servers. Imports the floor, `audit` and `catalog`; reaches servers only through
the `WriteRunner` it is given.
"""

from mcp_bridge.gate.gate import Gate, WriteRunner
from mcp_bridge.gate.tokens import business_arguments, new_nonce, sign_approval, sign_pii_grant

__all__ = ["Gate", "WriteRunner", "business_arguments", "new_nonce", "sign_approval", "sign_pii_grant"]
