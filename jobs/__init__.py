"""Scheduled work: digests and data sync, as plain functions the scheduler and CLI both call."""
