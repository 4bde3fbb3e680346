class DomainError(Exception):
    """A business rule refused the action; the message is shown to the user as is.

    Raise it with a translated (lazy or already-activated) message. ``field`` names the
    form field the error belongs to, when there is one.
    """

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
