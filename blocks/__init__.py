"""Pure Block Kit builders: data in, blocks out. No database, no Bolt."""
