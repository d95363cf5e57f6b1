"""Speech models: the catalog of named Whisper models, finding a model folder, and downloading one."""

from onevox.models.catalog import BUNDLED_NAME, CATALOG, FileSpec, ModelSpec, get_spec
from onevox.models.download import BASE_URL_ENV, DownloadOptions, download_model
from onevox.models.fetch import FetchOptions
from onevox.models.folder import ModelDetails, check_model_dir, read_model_details
from onevox.models.registry import (
    ModelInfo,
    ResolvedModel,
    bundled_model_path,
    list_models,
    remove_model,
    resolve_model,
)

__all__ = [
    "BASE_URL_ENV",
    "BUNDLED_NAME",
    "CATALOG",
    "DownloadOptions",
    "FetchOptions",
    "FileSpec",
    "ModelDetails",
    "ModelInfo",
    "ModelSpec",
    "ResolvedModel",
    "bundled_model_path",
    "check_model_dir",
    "download_model",
    "get_spec",
    "list_models",
    "read_model_details",
    "remove_model",
    "resolve_model",
]
