"""Rule files: policy options, state machines, triggers, the directory; all validated on load."""
