"""Errors a user can cause, carried up to the entry points as one Portuguese sentence."""


class UserError(Exception):
    """Something the user can fix (a flag, a missing Java, an unreachable broker).

    Entry points log its message alone, without a traceback, and exit with code 2.
    """


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for the whole retry budget.

    Raised in a batch; the consumer ends with its message as a UserError. Here, not in
    vendas.outputs.postgres, so that catching it does not load psycopg."""
