"""scripts/check_layer.py: the rules it applies to a built layer (on synthetic layers)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import check_layer

AARCH64_ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + (183).to_bytes(2, "little") + b"\x00" * 44
X86_64_ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + (62).to_bytes(2, "little") + b"\x00" * 44


@pytest.mark.parametrize(
    ("tag", "fits"),
    [
        pytest.param("py3-none-any", True, id="pure-py3"),
        pytest.param("py2.py3-none-any", True, id="pure-py2-py3"),
        pytest.param("cp313-cp313-manylinux2014_aarch64", True, id="manylinux2014-aarch64"),
        pytest.param("cp313-cp313-manylinux_2_28_aarch64", True, id="glibc-2.28"),
        pytest.param("cp313-cp313-manylinux_2_34_aarch64", True, id="glibc-2.34-the-runtimes"),
        pytest.param("cp313-cp313-manylinux_2_35_aarch64", False, id="glibc-newer-than-runtime"),
        pytest.param("cp39-abi3-manylinux2014_aarch64", True, id="stable-abi"),
        pytest.param("cp313-cp313-manylinux2014_x86_64", False, id="x86_64"),
        pytest.param("cp312-cp312-manylinux2014_aarch64", False, id="cpython-3.12"),
        pytest.param("cp313-cp313-musllinux_1_2_aarch64", False, id="musl"),
        pytest.param("cp313-cp313-macosx_11_0_arm64", False, id="macos"),
        pytest.param("garbage", False, id="not-a-tag"),
    ],
)
def test_wheel_tags_that_fit_the_python313_arm64_runtime(tag: str, fits: bool) -> None:
    assert check_layer.tag_fits(tag) is fits


def _dist_info(site: Path, name: str, version: str, tag: str, files: list[str]) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nTag: {tag}\n")
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in files))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A layer's python/ folder with the real autoresponder package and one compiled wheel."""
    site = tmp_path / "python"
    shutil.copytree(check_layer.SOURCE_PACKAGE, site / "autoresponder")
    (site / "fast").mkdir()
    (site / "fast" / "__init__.py").write_text("")
    (site / "fast" / "_speed.cpython-313-aarch64-linux-gnu.so").write_bytes(AARCH64_ELF)
    _dist_info(
        site,
        "fast",
        "1.0",
        "cp313-cp313-manylinux2014_aarch64",
        ["fast/__init__.py", "fast/_speed.cpython-313-aarch64-linux-gnu.so"],
    )
    return site


def test_a_clean_layer_has_no_problems(site: Path) -> None:
    dists = check_layer.distributions(site)
    assert [d.name for d in dists] == ["fast"]
    assert dists[0].top_level == {"fast"}
    assert check_layer.check_contents(site, dists) == []
    assert check_layer.check_platform(dists) == []


def test_boto3_in_the_layer_is_a_problem(site: Path) -> None:
    (site / "boto3").mkdir()
    _dist_info(site, "botocore", "1.35.0", "py3-none-any", ["botocore/__init__.py"])
    problems = check_layer.check_contents(site, check_layer.distributions(site))
    assert any(p.startswith("boto3 is in the layer") for p in problems)
    assert any(p.startswith("botocore 1.35.0 is installed") for p in problems)


def test_a_stale_autoresponder_copy_is_a_problem(site: Path) -> None:
    (site / "autoresponder" / "settings.py").write_text("# old\n")
    problems = check_layer.check_contents(site, check_layer.distributions(site))
    assert problems == ["autoresponder in the layer differs from the source tree: ['settings.py']"]


def test_an_x86_64_extension_is_a_problem_whatever_its_name(site: Path) -> None:
    (site / "fast" / "_speed.cpython-313-aarch64-linux-gnu.so").write_bytes(X86_64_ELF)
    problems = check_layer.check_platform(check_layer.distributions(site))
    assert problems == ["_speed.cpython-313-aarch64-linux-gnu.so: not an aarch64 ELF shared object"]


def test_a_wheel_for_another_platform_is_a_problem(tmp_path: Path) -> None:
    site = tmp_path / "python"
    _dist_info(site, "slow", "2.0", "cp313-cp313-manylinux2014_x86_64", ["slow/__init__.py"])
    problems = check_layer.check_platform(check_layer.distributions(site))
    assert problems == ["slow 2.0: no tag fits the runtime: ['cp313-cp313-manylinux2014_x86_64']"]


def test_sizes_counts_every_file(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "a.txt").write_bytes(b"a" * 10_000)
    zipped, unzipped = check_layer.sizes(tmp_path)
    assert unzipped == 10_000
    assert 0 < zipped < unzipped  # deflated


def test_the_lock_is_read_as_the_runtime_sees_it(tmp_path: Path) -> None:
    lock = tmp_path / "constraints.txt"
    lock.write_text(
        "# made by make lock\n"
        "pydantic==2.13.5\n"
        "Pydantic_Core==2.46.5\n"
        "numpy==2.4.6 ; python_full_version < '3.12'\n"
        "numpy==2.5.5 ; python_full_version >= '3.12'\n"
        "colorama==0.4.6 ; sys_platform == 'win32'\n"
    )
    assert check_layer.locked_versions(lock) == {
        "pydantic": "2.13.5",
        "pydantic-core": "2.46.5",
        "numpy": "2.5.5",  # CPython 3.13 on Linux: not the 3.11 pin, no colorama
    }


@pytest.mark.parametrize(
    ("layer", "locked", "tested", "problem"),
    [
        pytest.param("2.13.5", "2.13.5", "2.13.5", None, id="as-locked-and-tested"),
        pytest.param("2.14.4", "2.13.5", "2.13.5", "the lock 2.13.5", id="not-the-lock"),
        pytest.param("2.13.5", "2.13.5", "2.14.4", "the tests ran 2.14.4", id="not-tested"),
        pytest.param("2.13.5", None, None, "not in the lock", id="unlocked"),
    ],
)
def test_the_layer_ships_the_locked_and_tested_versions(
    layer: str, locked: str | None, tested: str | None, problem: str | None
) -> None:
    dist = check_layer.Distribution("pydantic", layer, ["py3-none-any"], {"pydantic"})
    problems = check_layer.check_versions(
        [dist],
        {"pydantic": locked} if locked else {},
        {"pydantic": tested} if tested else {},
    )
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_function_code_follows_the_built_templates_code_uri(tmp_path: Path) -> None:
    """Built functions are under the build folder; excluded ones (samconfig.toml) are read
    where the built template points: their source folders."""
    source = tmp_path / "functions" / "scale_back"
    source.mkdir(parents=True)
    (source / "app.py").write_text("def lambda_handler(event, context): ...\n")
    build = tmp_path / ".aws-sam" / "build"
    built = build / "FlagHotKeysFunction"
    built.mkdir(parents=True)
    (built / "app.py").write_text("def lambda_handler(event, context): ...\n")
    (build / "template.yaml").write_text(
        "Resources:\n"
        "  ScaleBackFunction:\n"
        "    Properties:\n"
        "      CodeUri: ../../functions/scale_back\n"
        "  FlagHotKeysFunction:\n"
        "    Properties:\n"
        "      CodeUri: FlagHotKeysFunction\n"
    )
    assert check_layer.function_code(build) == sorted([source.resolve(), built.resolve()])
