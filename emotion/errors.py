"""Exceptions a user can cause, each with a message that says what was wrong, where, and what to do."""


class EmotionError(Exception):
    """Base class for every error the study raises on purpose."""


class DataMissingError(EmotionError, FileNotFoundError):
    """A data file the study needs is not where it should be; the message says how to obtain it."""


class DataFormatError(EmotionError, ValueError):
    """A data file exists but its content is malformed; the message names the file, line and problem."""
