from servers.analytics.server import build_server
from servers.common.server import serve

serve(build_server, default_port=8103)
