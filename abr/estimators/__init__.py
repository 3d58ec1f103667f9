"""Throughput and latency estimators: `add_sample(transfer_s, throughput_kbps, latency_s)` per
download; read `throughput_kbps` (None until the first sample) and `latency_s` before deciding."""
