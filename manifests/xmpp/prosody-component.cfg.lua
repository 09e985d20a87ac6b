-- backline as an external component (XEP-0114) of Prosody.
-- Add this to prosody.cfg.lua (after your VirtualHost), set a long random secret, reload.
-- backline's side ([xmpp] in backline.toml, or BACKLINE_XMPP_* variables):
--   enabled = true, mode = "component", jid = "backline.example.org",
--   secret = <the same secret>, host = <Prosody's address>, port = 5347
-- backline refuses to start with the example secret below.

component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }  -- where backline runs; never expose it publicly

Component "backline.example.org"
    component_secret = "change-me"
