"""Media processing for the backend, one step per module: `transcode` runs the steps that
turn an uploaded source into a title's files (`encode`: the ffmpeg ladder into CMAF;
`hls_ts`; `encryption`; `subtitles`; `artwork`), over `ffmpeg` (running and probing) and
`ladder` (the rungs). `capping` edits manifests as they are served; `mpd` is the MPD XML
the steps share."""
