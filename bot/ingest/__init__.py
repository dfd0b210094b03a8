"""Data in: CSV import, the demo portfolio, and the TikTok Shop Open API client."""
