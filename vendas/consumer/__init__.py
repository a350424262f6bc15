"""The consumer: its options, the streaming query and what each micro-batch does."""
