"""Shop Health Bot: TikTok Shop seller health in Slack."""
