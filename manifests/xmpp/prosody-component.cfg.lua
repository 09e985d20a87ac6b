-- backline as an external component (XEP-0114) of Prosody.
-- Paste this whole snippet into prosody.cfg.lua BEFORE your first VirtualHost line, set a long
-- random secret, restart Prosody. The two component_* options are global: written after a
-- VirtualHost (or Component) line they would belong to that host and be silently ignored.
-- backline's side ([xmpp] in backline.toml, or BACKLINE_XMPP_* variables):
--   enabled = true, mode = "component", jid = "backline.example.org",
--   secret = <the same secret>, host = <Prosody's address>, port = 5347
-- backline refuses to start with the example secret below.

component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }  -- where backline runs; never expose it publicly

Component "backline.example.org"
    component_secret = "change-me"
    -- Prosody closes a component stream whose stanza is over component_stanza_size_limit
    -- (512 KiB by default); backline splits long replies under xmpp.max_stanza (64 KiB).
