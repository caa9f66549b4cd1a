#!/usr/bin/env python3
"""Check the layer `sam build` made: what Lambda's python3.13 / arm64 runtime will load.

    python scripts/check_layer.py [.aws-sam/build]

1. Contents: no boto3/botocore (nor the packages only they need): the runtime provides them,
   and a copy would shadow the runtime's; the `autoresponder` package is the source tree's.
2. Platform: every wheel is pure Python or tagged for CPython 3.13 on manylinux aarch64 with a
   glibc the runtime has (Amazon Linux 2023: 2.34), and every compiled extension is an
   aarch64 ELF for CPython 3.13 (read from the ELF header, not just the file name).
3. Imports: a fresh CPython 3.13 interpreter (`-I -S`: no site-packages, no environment) whose
   path holds only the layer and the runtime's boto3/botocore imports every module of
   `autoresponder`, the Powertools utilities the package uses, and every built function's
   `app.py`; each module must come from the layer (or boto3 from the runtime's copy).
4. Size: the layer zipped (as `sam deploy` uploads it) and unzipped, against Lambda's limits.
5. Versions: every distribution in the layer has the version the lock (`constraints.txt`) pins
   and, when this interpreter's environment has it (the project's .venv, where the tests run),
   that environment's version: what is tested is what ships.

The functions' code is found through the built template's `CodeUri`: a function folder under
the build directory, or the source folder of a function `sam build` leaves as it is
(samconfig.toml's `exclude`).

Limitation: an aarch64 extension cannot be loaded on another machine. On a non-aarch64 host,
step 3 loads the host build of *the same version* of each compiled distribution (pydantic_core,
wrapt, ...: reused from this interpreter's environment when the versions match, else
`pip install --no-deps` of that exact version into a scratch folder) in place of the layer's
aarch64 build; steps 1 and 2 are what check those. Everything pure Python is the layer's own.
On an aarch64 host with CPython 3.13 the layer is imported exactly as built.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import json
import platform
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker  # pytest's dependency: in the project's .venv

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
LAYER_ID = "AutoresponderLayer"
PACKAGE = "autoresponder"
SOURCE_PACKAGE = ROOT / "layers" / "autoresponder" / PACKAGE
RUNTIME = (3, 13)
# What the Lambda python3.13 runtime ships (and the layer Makefile deletes): must not be in the
# layer. jmespath is also in the runtime, but Powertools needs it and a copy is harmless.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "six"}
RUNTIME_GLIBC = (2, 34)  # Amazon Linux 2023, the python3.13 runtime's OS
EM_AARCH64 = 183
# Lambda quotas: function + layers unzipped; a zip uploaded directly (sam deploy uses S3, but
# the layer must still fit the 250 MB together with the functions).
MAX_UNZIPPED = 250 * 1024 * 1024
POWERTOOLS_MODULES = [
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.typing",
    "pydantic",
    "pydantic_settings",
    "aws_xray_sdk.core",
]


class LayerError(Exception):
    """The built layer would not work in the runtime."""


@dataclass
class Distribution:
    name: str
    version: str
    tags: list[str]
    top_level: set[str]
    extensions: list[Path] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# contents
# ------------------------------------------------------------------------------------------
def distributions(site: Path) -> list[Distribution]:
    found = []
    for info in sorted(site.glob("*.dist-info")):
        metadata = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        name = re.search(r"^Name: (.+)$", metadata, re.MULTILINE)
        version = re.search(r"^Version: (.+)$", metadata, re.MULTILINE)
        wheel = (info / "WHEEL").read_text() if (info / "WHEEL").exists() else ""
        tags = re.findall(r"^Tag: (.+)$", wheel, re.MULTILINE)
        files = []
        if (info / "RECORD").exists():
            files = [line.split(",")[0] for line in (info / "RECORD").read_text().splitlines()]
        top = {
            Path(f).parts[0].removesuffix(".py")
            for f in files
            if f and not Path(f).parts[0].endswith((".dist-info", ".data")) and ".." not in f
        }
        extensions = [site / f for f in files if f.endswith(".so")]
        found.append(
            Distribution(
                name=name.group(1).strip() if name else info.name,
                version=version.group(1).strip() if version else "?",
                tags=tags,
                top_level=top,
                extensions=extensions,
            )
        )
    return found


def check_contents(site: Path, dists: list[Distribution]) -> list[str]:
    problems = []
    present = {p.name.removesuffix(".py") for p in site.iterdir()}
    for name in sorted(RUNTIME_PROVIDED & present):
        problems.append(f"{name} is in the layer: the runtime provides it (and a copy shadows it)")
    for dist in dists:
        normalized = dist.name.lower().replace("-", "_")
        if normalized in RUNTIME_PROVIDED | {"python_dateutil"}:
            problems.append(f"{dist.name} {dist.version} is installed in the layer")
    built = _digests(site / PACKAGE)
    source = _digests(SOURCE_PACKAGE)
    if built != source:
        differing = sorted(set(built.items()) ^ set(source.items()))
        names = sorted({path for path, _ in differing})[:5]
        problems.append(f"{PACKAGE} in the layer differs from the source tree: {names}")
    return problems


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


# ------------------------------------------------------------------------------------------
# platform
# ------------------------------------------------------------------------------------------
_TAG = re.compile(r"^(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>.+)$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_aarch64$")
_LEGACY = {"manylinux2014_aarch64": (2, 17)}


def tag_fits(tag: str) -> bool:
    """Whether one wheel tag can run on CPython 3.13, Linux arm64, glibc 2.34."""
    match = _TAG.match(tag)
    if match is None:
        return False
    py, abi, plat = match["py"], match["abi"], match["plat"]
    if plat == "any":
        return abi == "none" and any(p in {"py3", "py2", "cp313"} for p in py.split("."))
    if plat in _LEGACY:
        glibc = _LEGACY[plat]
    elif m := _MANYLINUX.match(plat):
        glibc = (int(m[1]), int(m[2]))
    else:
        return False
    python_ok = py == "cp313" or (abi == "abi3" and py.startswith("cp3"))
    return python_ok and abi in {"cp313", "abi3", "none"} and glibc <= RUNTIME_GLIBC


def elf_machine(path: Path) -> int | None:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    byteorder = "little" if header[5] == 1 else "big"
    return int.from_bytes(header[18:20], byteorder)


def check_platform(dists: list[Distribution]) -> list[str]:
    problems = []
    for dist in dists:
        if not dist.tags:
            problems.append(f"{dist.name}: no wheel tags (not installed from a wheel?)")
        elif not any(tag_fits(tag) for tag in dist.tags):
            problems.append(f"{dist.name} {dist.version}: no tag fits the runtime: {dist.tags}")
        for extension in dist.extensions:
            if not re.search(r"\.(cpython-313-aarch64-linux-gnu|abi3)\.so$", extension.name):
                problems.append(f"{extension.name}: not built for CPython 3.13 on aarch64")
            if elf_machine(extension) != EM_AARCH64:
                problems.append(f"{extension.name}: not an aarch64 ELF shared object")
    return problems


# ------------------------------------------------------------------------------------------
# imports
# ------------------------------------------------------------------------------------------
IMPORT_SCRIPT = r"""
import importlib, importlib.util, json, pkgutil, sys, sysconfig
paths, modules, apps = json.loads(sys.argv[1])
sys.path[:0] = paths
loaded, failed = {}, {}
names = list(modules)
import autoresponder
names += [m.name for m in pkgutil.walk_packages(autoresponder.__path__, "autoresponder.")]
for name in names:
    try:
        loaded[name] = getattr(importlib.import_module(name), "__file__", None)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
for function, path in apps.items():
    try:
        spec = importlib.util.spec_from_file_location(f"app_{function}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        loaded[f"{function}/app.py"] = path if callable(module.lambda_handler) else None
    except Exception as exc:
        failed[f"{function}/app.py"] = f"{type(exc).__name__}: {exc}"
origins = {name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}
stdlib = sorted({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")})
print(json.dumps({"loaded": loaded, "failed": failed, "origins": origins, "stdlib": stdlib,
                  "version": list(sys.version_info[:2])}))
"""


def host_builds(dists: list[Distribution], scratch: Path) -> Path | None:
    """On a non-aarch64 host: the host's build of each compiled distribution, same version."""
    compiled = [d for d in dists if d.extensions]
    if not compiled or platform.machine() in {"aarch64", "arm64"}:
        return None
    overlay = scratch / "host-builds"
    overlay.mkdir()
    missing = []
    for dist in compiled:
        try:
            same = importlib.metadata.version(dist.name) == dist.version
        except importlib.metadata.PackageNotFoundError:
            same = False
        if same:
            installed = importlib.metadata.distribution(dist.name)
            for top in dist.top_level:
                source = Path(str(installed.locate_file(top)))
                if source.exists():
                    (overlay / top).symlink_to(source)
        else:
            missing.append(f"{dist.name}=={dist.version}")
    if missing:
        answer = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--only-binary=:all:", "--target", str(overlay),
             *missing],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if answer.returncode != 0:
            raise LayerError(f"could not install host builds of {missing}:\n{answer.stderr}")
    return overlay


def runtime_boto3(scratch: Path) -> Path:
    """boto3 and botocore as the runtime provides them (this environment's copies), alone."""
    folder = scratch / "runtime"
    folder.mkdir()
    for dist_name in ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise LayerError(
                f"{dist_name} is not installed here: cannot stand in for the runtime"
            ) from exc
        tops = {
            f.parts[0]
            for f in dist.files or []
            if not f.parts[0].endswith((".dist-info", ".data")) and ".." not in f.parts
        }
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source)
    return folder


def check_imports(
    site: Path, dists: list[Distribution], build: Path, python: str
) -> tuple[list[str], str]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="check-layer-") as tmp:
        scratch = Path(tmp)
        overlay = host_builds(dists, scratch)
        runtime = runtime_boto3(scratch)
        paths = [str(p) for p in (overlay, site, runtime) if p is not None]
        apps = {folder.name: str(folder / "app.py") for folder in function_code(build)}
        if not apps:
            problems.append(f"no built function (app.py) under {build}")
        env = {
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "dynamodb-autoresponder",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        answer = subprocess.run(
            [python, "-I", "-S", "-c", IMPORT_SCRIPT,
             json.dumps([paths, POWERTOOLS_MODULES, apps])],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if answer.returncode != 0:
            raise LayerError(f"the import check crashed:\n{answer.stderr}")
        report = json.loads(answer.stdout)
        # Where CPython 3.13 is not installed, the project's venv falls back to 3.11+ (README):
        # the imports are still checked, on that version, and the summary says so loudly.
        fallback = tuple(report["version"]) != RUNTIME
        for name, error in sorted(report["failed"].items()):
            problems.append(f"import {name}: {error}")
        allowed = [str(site)] + [str(p) for p in (overlay, runtime) if p is not None]
        allowed += report["stdlib"]
        for name, origin in sorted(report["origins"].items()):
            if origin and not name.startswith("app_") and not origin.startswith(tuple(allowed)):
                problems.append(f"{name} was loaded from outside the layer: {origin}")
        from_runtime = [n for n, o in report["origins"].items() if o and o.startswith(str(runtime))]
        if not any(n == "boto3" for n in from_runtime):
            problems.append("boto3 was not loaded from the runtime's copy")
        mode = (
            "layer as built (aarch64 host)"
            if overlay is None
            else f"layer with host builds of {', '.join(d.name for d in dists if d.extensions)}"
        )
        summary = f"{len(report['loaded'])} modules and {len(apps)} handlers imported ({mode})"
        if fallback:
            version = ".".join(str(v) for v in report["version"])
            summary += f"; WARNING: on Python {version}, not 3.13 (no CPython 3.13 here)"
    return problems, summary


def function_code(build: Path) -> list[Path]:
    """Each function's code folder with an `app.py`, from the built template's `CodeUri`s
    (relative to the build directory; built or, when excluded from the build, the source)."""
    template = build / "template.yaml"
    if not template.is_file():
        return [f for f in sorted(build.iterdir()) if (f / "app.py").is_file()]
    uris = re.findall(r"^\s+CodeUri:\s*['\"]?([^'\"\s]+)['\"]?\s*$", template.read_text(), re.M)
    folders = {(build / uri).resolve() for uri in uris}
    return sorted(f for f in folders if (f / "app.py").is_file())


# ------------------------------------------------------------------------------------------
# versions
# ------------------------------------------------------------------------------------------
def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path, environment: dict[str, str] | None = None) -> dict[str, str]:
    """Name → version of every `name==version` line of the lock whose marker holds for
    `environment` (the runtime's: CPython 3.13 on Linux arm64)."""
    pins: dict[str, str] = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-") or "==" not in line:
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(environment or RUNTIME_MARKERS):
            continue
        name, _, version = requirement.partition("==")
        pins[_normalized(name.split("[", 1)[0].strip())] = version.strip()
    return pins


RUNTIME_MARKERS = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}


def check_versions(
    dists: list[Distribution], locked: dict[str, str], tested: dict[str, str]
) -> list[str]:
    """Each distribution of the layer at the lock's version and at the tested one."""
    problems = []
    for dist in dists:
        name = _normalized(dist.name)
        if name not in locked:
            problems.append(f"{dist.name} {dist.version} is in the layer but not in the lock")
        elif locked[name] != dist.version:
            problems.append(f"{dist.name}: the layer has {dist.version}, the lock {locked[name]}")
        if name in tested and tested[name] != dist.version:
            problems.append(
                f"{dist.name}: the layer has {dist.version}, the tests ran {tested[name]}"
            )
    return problems


def tested_versions() -> dict[str, str]:
    """This interpreter's environment (the project's .venv): name → version."""
    return {
        _normalized(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if d.metadata["Name"]
    }


# ------------------------------------------------------------------------------------------
# size
# ------------------------------------------------------------------------------------------
def sizes(layer_root: Path) -> tuple[int, int]:
    """(zipped, unzipped) bytes of the layer, zipped as `sam deploy` packages it."""
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(layer_root.rglob("*")):
            if path.is_file():
                unzipped += path.stat().st_size
                archive.write(path, path.relative_to(layer_root))
    return len(buffer.getvalue()), unzipped


# ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", type=Path, default=ROOT / ".aws-sam" / "build")
    parser.add_argument("--python", default=sys.executable, help="a CPython 3.13 interpreter")
    args = parser.parse_args(argv)
    args.build = args.build.resolve()
    layer_root = args.build / LAYER_ID
    site = layer_root / "python"
    if not site.is_dir():
        print(f"check_layer: {site} not found: run `sam build` first", file=sys.stderr)
        return 2
    dists = distributions(site)
    try:
        problems = check_contents(site, dists) + check_platform(dists)
        problems += check_versions(dists, locked_versions(LOCK), tested_versions())
        import_problems, summary = check_imports(site, dists, args.build, args.python)
    except LayerError as exc:
        print(f"check_layer: {exc}", file=sys.stderr)
        return 1
    problems += import_problems
    zipped, unzipped = sizes(layer_root)
    if unzipped > MAX_UNZIPPED:
        problems.append(f"the layer unzipped is {unzipped} bytes, over Lambda's 250 MB")
    print(f"layer {LAYER_ID}: {len(dists)} distributions, {summary}")
    for dist in dists:
        kind = "compiled" if dist.extensions else "pure"
        print(f"  {dist.name} {dist.version} ({kind}; {dist.tags[0] if dist.tags else '?'})")
    print(f"versions: each as {LOCK.name} pins it and as the tests ran it ({sys.prefix})")
    print(f"layer size: {zipped} bytes zipped ({zipped / 2**20:.1f} MiB), "
          f"{unzipped} bytes unzipped ({unzipped / 2**20:.1f} MiB)")  # fmt: skip
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
