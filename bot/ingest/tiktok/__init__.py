"""The TikTok Shop Open API: request signing, the client, and webhooks."""
