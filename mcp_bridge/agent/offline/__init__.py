"""The offline demo assistant: the common requests in English and Chinese, deterministic, same tools and gate."""

from mcp_bridge.agent.offline.assistant import LABEL, OfflineAgent

__all__ = ["LABEL", "OfflineAgent"]
