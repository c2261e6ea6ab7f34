"""``geogrid lookup``: one point or address (JSON on stdout), or a whole CSV file (CSV out, with progress)."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import typer

from geogrid.cli.common import app, progress
from geogrid.csvsafe import SafeWriter
from geogrid.errors import InputError
from geogrid.i18n import t

CHUNK = 5_000
_POINT = re.compile(r"^\s*(-?[\d.]+(?:e-?\d+)?)\s*[,，\s]\s*(-?[\d.]+(?:e-?\d+)?)\s*$", re.IGNORECASE)


@app.command("lookup", help=t("Which grid a point or an address is in, and who is responsible for it."))
def lookup_command(
    query: str = typer.Argument(None, help=t("An address (巴蜀花园3栋) or a point 'lon,lat'.")),
    crs: str = typer.Option("wgs84", help=t("CRS of points: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx.")),
    file: Path = typer.Option(None, "--file", "-f", help=t("CSV with columns id and lon,lat or address.")),
    out: Path = typer.Option(None, "--out", "-o", help=t("Where to write the CSV answer (default stdout).")),
    explain: bool = typer.Option(False, "--explain", help=t("Print why an address answer was chosen (on stderr).")),
) -> None:
    from geogrid import db

    if file is None and not query:
        raise InputError(t("give a query (address or 'lon,lat') or --file"))
    with db.ready().connect() as conn:
        if file is not None:
            _lookup_file(conn, file, out, crs)
            return
        from geogrid.lookup import lookup_address, lookup_point

        point = _POINT.match(query)
        answer = (
            lookup_point(conn, float(point[1]), float(point[2]), crs) if point else lookup_address(conn, query, explain)
        )
    for line in answer.pop("explain", None) or ():
        typer.echo(line, err=True)
    if explain and "match" in answer:
        typer.echo(_explain_summary(answer), err=True)
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))


def _explain_summary(answer: dict) -> str:
    """One line: the level and grid, or the candidate grids with their shares."""
    match = answer["match"]
    if not answer["ambiguous"]:
        return t("{level} match: grid {code}", level=match["level"], code=answer["grid"]["code"])
    shares = ", ".join(f"{c['grid']['code']} {c['share']:.0%}" for c in answer["candidates"])
    return t("{level} match, not sure: candidates {shares}", level=match["level"], shares=shares)


def read_items(path: Path) -> list[dict]:
    """Rows of a lookup CSV as batch items; a missing column names the file and the field."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = set(reader.fieldnames or ())
            if not ({"lon", "lat"} <= fields or "address" in fields):
                raise InputError(t("needs columns lon and lat, or address"), file=str(path), field="lon/lat/address")
            return [
                {
                    "id": row.get("id") or str(n),
                    "lon": row.get("lon") or None,
                    "lat": row.get("lat") or None,
                    "address": row.get("address") or None,
                }
                for n, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise InputError(t("cannot read: {error}", error=exc.strerror), file=str(path)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(t("not a UTF-8 CSV: {error}", error=exc), file=str(path)) from None


def _lookup_file(conn, path: Path, out: Path | None, crs: str) -> None:
    from geogrid.lookup import CSV_COLUMNS, csv_row, lookup_batch

    items = read_items(path)
    sink = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    try:
        writer = SafeWriter(sink)
        writer.writerow(CSV_COLUMNS)
        with progress() as bar:
            task = bar.add_task(t("lookup"), total=len(items))

            for start in range(0, len(items), CHUNK):
                writer.writerows(csv_row(r) for r in lookup_batch(conn, items[start : start + CHUNK], crs))
                bar.advance(task, min(CHUNK, len(items) - start))
    finally:
        if out:
            sink.close()
