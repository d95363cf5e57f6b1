"""`onevox serve`: an OpenAI-compatible transcription server (POST /v1/audio/transcriptions) over the same
file transcription as `onevox transcribe`, for a team that shares one machine's model.

options.py holds the settings, pool.py the fixed pool of model workers behind a bounded queue, upload.py
reads and decodes an upload within its limits, app.py the Starlette routes. Starlette and uvicorn come with
the `serve` extra and are imported only here.
"""
