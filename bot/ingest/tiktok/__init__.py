"""The TikTok Shop Open API: request signing and retries (`transport`), the token endpoints
(`tokens`), per-seller authorization (`oauth`, `connect`), one seller's client (`client`, `orders`),
and webhooks."""
