"""Build the Teams app package: fill the manifest placeholders, validate, zip with the icons.

    python -m appPackage.build --bot-id <guid> [--app-id <guid>] [--bot-domain HOST]
                               [--developer-url URL] [--out dist/teams-app.zip]

The bot id is the client id of the app's user-assigned managed identity (azd output BOT_ID).
Without --app-id the Teams app id is derived from the bot id, so rebuilding gives the same
app and Teams treats the upload as an update.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appPackage.schema import ManifestSchemaError, manifest_errors

PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = PACKAGE_DIR / "manifest.json"
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
DEFAULT_DEVELOPER_URL = "https://portal.azure.com"
PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
# Fixed timestamp so that the same inputs give a byte-identical zip.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The package cannot be built from these inputs (the message says why)."""


def guid(value: str) -> str:
    """argparse type: a GUID in its canonical 8-4-4-4-12 form, returned lower-case."""
    if not GUID.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a GUID (8-4-4-4-12 hex digits)")
    return value.lower()


def host_name(value: str) -> str:
    """argparse type: a bare DNS host name; a URL such as azd's SERVICE_API_URI is reduced."""
    host = re.sub(r"^https?://", "", value.strip()).rstrip("/")
    if not HOST.match(host):
        raise argparse.ArgumentTypeError(f"{value!r} is not a host name like app.example.com")
    return host.lower()


def https_url(value: str) -> str:
    """argparse type: an https URL."""
    if not re.match(r"^https://[^\s/]+", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an https:// URL")
    return value


def default_app_id(bot_id: str) -> str:
    """A stable Teams app id for a bot id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"teams-app:{bot_id}"))


def fill(template: Any, values: dict[str, str]) -> Any:
    """Replace ${{NAME}} in every string of the template; an unknown name is an error."""
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, str):

        def lookup(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise PackageError(f"manifest placeholder {match.group(0)} has no value")
            return values[match.group(1)]

        return PLACEHOLDER.sub(lookup, template)
    return template


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise PackageError(f"{path.name} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def icon_files(manifest: dict[str, Any]) -> list[Path]:
    """The icons the manifest names, checked for presence and the sizes Teams requires."""
    paths = []
    for kind, size in ICON_SIZES.items():
        path = PACKAGE_DIR / manifest["icons"][kind]
        if not path.is_file():
            raise PackageError(f"{kind} icon {path} is missing")
        if png_size(path) != size:
            raise PackageError(f"{path.name} is {png_size(path)}, Teams needs {size}")
        paths.append(path)
    return paths


def build_manifest(
    bot_id: str, app_id: str, bot_domain: str | None, developer_url: str
) -> dict[str, Any]:
    """The filled manifest, validated against the offline schema of its manifestVersion."""
    template = json.loads(MANIFEST.read_text(encoding="utf-8"))
    manifest = fill(
        template,
        {
            "BOT_ID": bot_id,
            "TEAMS_APP_ID": app_id,
            "BOT_DOMAIN": bot_domain or "",
            "DEVELOPER_URL": developer_url,
        },
    )
    manifest["validDomains"] = [d for d in manifest.get("validDomains", []) if d]
    try:
        errors = manifest_errors(manifest)
    except ManifestSchemaError as exc:
        raise PackageError(str(exc)) from exc
    if errors:
        raise PackageError("manifest does not match its schema:\n  " + "\n  ".join(errors))
    return manifest


def write_package(manifest: dict[str, Any], out: Path) -> Path:
    """Zip manifest.json and the icons at the root of `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    entries = [("manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())]
    entries += [(path.name, path.read_bytes()) for path in icon_files(manifest)]
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m appPackage.build",
        description="Build the Teams app package (manifest.json + icons) for the Azure Bot.",
    )
    parser.add_argument(
        "--bot-id",
        required=True,
        type=guid,
        help="client id of the bot identity (the user-assigned managed identity; azd BOT_ID)",
    )
    parser.add_argument(
        "--app-id", type=guid, help="Teams app id; default: derived from the bot id (stable)"
    )
    parser.add_argument(
        "--bot-domain",
        type=host_name,
        help="Function App host name for validDomains (azd SERVICE_API_URI is accepted)",
    )
    parser.add_argument(
        "--developer-url",
        type=https_url,
        default=DEFAULT_DEVELOPER_URL,
        help=f"website, privacy and terms URL shown in Teams (default {DEFAULT_DEVELOPER_URL})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("dist/teams-app.zip"),
        help="zip to write (default dist/teams-app.zip)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    app_id = args.app_id or default_app_id(args.bot_id)
    try:
        manifest = build_manifest(args.bot_id, app_id, args.bot_domain, args.developer_url)
        out = write_package(manifest, args.out)
    except (PackageError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} (Teams app id {app_id}, bot id {args.bot_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
