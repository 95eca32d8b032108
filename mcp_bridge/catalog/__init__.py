"""Catalog, pins and policy: which tools exist, which a caller may use, which are writes, and the site's limits.

Owns the namespaced tool list (`server__tool`), pinned definitions, the read/write classification and the per-site
safety limits. Imports the floor and nothing of sessions (it takes any object that lists tools), gate or audit.
"""

from mcp_bridge.catalog.catalog import Catalog, namespaced, strip_control_args, visible_to
from mcp_bridge.catalog.policy import check, limits_for, load_policy, save_policy, today_bid_increase
from mcp_bridge.catalog.site_limits import SitePolicy, default_policy, site_currency
from mcp_bridge.catalog.targets import check_edit, target_arguments, value_arguments

__all__ = ["Catalog", "SitePolicy", "check", "check_edit", "default_policy", "limits_for", "load_policy", "namespaced",
           "save_policy", "site_currency", "strip_control_args", "target_arguments", "today_bid_increase",
           "value_arguments", "visible_to"]
