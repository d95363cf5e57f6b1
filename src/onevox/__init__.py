"""onevox: private, local, fast speech-to-text dictation for the desktop."""

__version__ = "0.1.0"
