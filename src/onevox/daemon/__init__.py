"""The dictation daemon: controller (state machine), pipeline workers, event bus, wiring (app.py) and the
process lifecycle. Nothing heavy is imported here, so `onevox status` and friends start fast."""
