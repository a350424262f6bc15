"""Where results go: the console, the dead-letter topic, PostgreSQL."""
