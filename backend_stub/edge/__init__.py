"""The nginx CDN tiers: config generation and process management."""
