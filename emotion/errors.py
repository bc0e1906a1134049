"""Exceptions a user can cause, each with a message that says what was wrong, where, and what to do."""


class EmotionError(Exception):
    """Base class for every error the study raises on purpose."""


class DataMissingError(EmotionError, FileNotFoundError):
    """A data file the study needs is not where it should be; the message says how to obtain it."""


class DataFormatError(EmotionError, ValueError):
    """A data file exists but its content is malformed; the message names the file, line and problem."""


class ModelFileError(EmotionError, ValueError):
    """A model file is missing or is not a Keras model archive; the message names the file and what to do."""


class ConfigurationError(EmotionError, ValueError):
    """A command-line or configuration value is invalid (unknown split, model name, ...); the message lists the
    valid values."""
