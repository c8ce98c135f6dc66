"""Domain errors. Each carries a message a non-engineer can act on; pages show it with st.error."""

from __future__ import annotations


class ReviewStudioError(Exception):
    """Base class: `str(error)` is the user-facing message."""


class NotFoundError(ReviewStudioError):
    pass


class InvalidInputError(ReviewStudioError):
    """A value the user typed or picked cannot be used as it is."""


class ImportFileError(ReviewStudioError):
    """The uploaded file cannot be read at all; nothing was imported."""


class ColumnMappingError(ReviewStudioError):
    """The chosen columns cannot make a dataset."""


class SampleDataUnavailableError(ReviewStudioError):
    pass
