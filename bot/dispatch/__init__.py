"""The command pipeline: dedupe, identify, parse, authorize, handle, commit, emit."""
