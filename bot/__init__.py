"""backline core: directory, presence, interactions and rules, independent of any platform."""
