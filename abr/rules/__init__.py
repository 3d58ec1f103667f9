"""Rules shared by several algorithms (as dash.js keeps one small file per rule)."""
