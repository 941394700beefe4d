"""Local fake providers on loopback: SMS gateways, WeChat and a Web Push endpoint (issue 17)."""
