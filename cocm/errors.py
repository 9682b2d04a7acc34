"""The errors every layer shares: a service refuses input with the field named, and the
caller maps it to its medium (a form error on a page, a 422 in the API, a message and exit
status in a command)."""


class InvalidRequest(ValueError):
    """Input a clinician must correct; `field` names the input at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class EditConflict(InvalidRequest):
    """Another user saved the record after this user loaded it."""

    MESSAGE = (
        "This record was changed by someone else while you were editing; reload and try again."
    )

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.MESSAGE, "version")
