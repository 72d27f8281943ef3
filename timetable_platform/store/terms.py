"""Term settings in the database: a tenant's defaults (``tenant_terms``) and an upload's own
(``uploads.term_settings``). The exports resolve the upload's over the tenant's, then defaults."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from timetable_platform.domain.term import Term, TermSettings, resolve
from timetable_platform.store.models import TenantTerm, Upload, utcnow


def _load(data: dict[str, Any] | None) -> TermSettings | None:
    return TermSettings.model_validate(data) if data else None


def tenant_term(session: Session, tenant: str) -> TermSettings | None:
    row = session.get(TenantTerm, tenant)
    return _load(row.settings) if row is not None else None


def set_tenant_term(session: Session, tenant: str, settings: TermSettings) -> None:
    """Replace the tenant's term settings (in the caller's transaction)."""
    data = settings.model_dump(mode="json")
    row = session.get(TenantTerm, tenant)
    if row is None:
        session.add(TenantTerm(tenant=tenant, settings=data))
    else:
        row.settings = data
        row.updated_at = utcnow()


def upload_term(upload: Upload) -> TermSettings | None:
    return _load(upload.term_settings)


def set_upload_term(upload: Upload, settings: TermSettings) -> None:
    """Replace the upload's own term settings (in the caller's transaction)."""
    upload.term_settings = settings.model_dump(mode="json")


def effective_settings(session: Session, upload: Upload) -> TermSettings:
    own = upload_term(upload) or TermSettings()
    return own.over(tenant_term(session, upload.tenant))


def effective_term(session: Session, upload: Upload) -> Term:
    """The upload's resolved term. Missing dates default from the school year the upload was submitted
    in: fixed for the upload, so a feed fetched in any week anchors Week A to the same Monday."""
    reference: date = upload.created_at.date()
    return resolve(effective_settings(session, upload), reference)
