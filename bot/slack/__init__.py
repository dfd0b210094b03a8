"""The bot's side of Slack that is more than one call: whose workspace this is, which channels are
shared with other organisations, and posting a message exactly once."""
