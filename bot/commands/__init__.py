"""Command handlers, grouped by domain; the table in ``bot.dispatch.commands`` lists them."""
