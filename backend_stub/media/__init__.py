"""Media processing for the backend: from an uploaded source to the files of a published
title (ffmpeg, the bitrate ladder, packaging, encryption, artwork)."""
