"""Live channels: a supervised ffmpeg encoder per channel and the manifests published over its segments."""
