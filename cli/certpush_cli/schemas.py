"""JSON Schemas of the events certpush reads and emits, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from certpush.models.events import (
    DETAIL_TYPE_EXPIRING,
    DETAIL_TYPE_ISSUED,
    DETAIL_TYPE_PUSHED,
    DETAIL_TYPE_SUMMARY,
    CertificateExpiringDetail,
    CertificateIssuedDetail,
    CertificatePushedDetail,
    IssuanceSummaryDetail,
)

SCHEMAS: dict[str, tuple[str, type[BaseModel]]] = {
    "certificate-issued.schema.json": (DETAIL_TYPE_ISSUED, CertificateIssuedDetail),
    "certificate-pushed.schema.json": (DETAIL_TYPE_PUSHED, CertificatePushedDetail),
    "certificate-push-summary.schema.json": (DETAIL_TYPE_SUMMARY, IssuanceSummaryDetail),
    "certificate-expiring.schema.json": (DETAIL_TYPE_EXPIRING, CertificateExpiringDetail),
}


def render_schemas() -> dict[str, str]:
    rendered = {}
    for filename, (detail_type, model) in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["description"] = (
            f"detail of the EventBridge event with detail-type '{detail_type}'. "
            + (schema.get("description") or "").strip()
        )
        rendered[filename] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_schemas().items():
        path = directory / filename
        path.write_text(text)
        written.append(path)
    return written
