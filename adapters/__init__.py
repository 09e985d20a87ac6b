"""Platform adapters: each converts platform payloads to core events and core intents back."""
