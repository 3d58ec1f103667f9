"""`streamlab qa`: real playback sessions over trace-shaped links against the bundled backend.

The harness starts (or uses) the backend and CDN, runs the player engine through one
trace-shaped link per session, injects faults when asked, compares with the simulator, and
gates a release on QoE targets.

| module | job |
| --- | --- |
| `targets` | the targets file (TOML) and the gate's checks |
| `backend` | start `streamlab serve` or reach a running one; the API calls a player makes |
| `session` | one real session: shaped link, engine, decoder or counter, progress reports |
| `runner` | N sessions, C at a time, with a progress bar |
| `distributed` | the sessions in batches on Dask workers, under per-worker and per-host limits |
| `placement` | where the sessions ran (one process or Dask), the limits, each host's peak |
| `faults` | the seeded fault plan, the fault proxy and the process-level faults |
| `fidelity` | the same traces and ABR through the simulator, and the differences |
| `live` | `--live CHANNEL`: the channel the sessions watch and the latency limit |
| `live_fidelity` | live sessions replayed in the lab's live mode: the latency differences |
| `report`, `junit` | the per-session CSV, the HTML report and the JUnit XML |
"""
