"""The XMPP adapter: a component (XEP-0114) or a client account (ADP-4, ADP-6)."""
