"""Audio: files and devices in, 16 kHz mono float32 out."""

SAMPLE_RATE = 16000  # what every stage after capture works in
