"""The Spark side: the session, its settings, finding Java."""
