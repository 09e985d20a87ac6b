"""The Slack adapter (ADP-2): slash command, Block Kit cards, App Home, HTTP or Socket Mode."""
