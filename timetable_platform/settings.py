"""One settings object for the whole platform (environment variables prefixed ``TIMETABLE_``, or ``.env``).

Each backend is chosen independently here; nothing else in the code branches on "local vs cloud".
Every field is documented in ``.env.example``, as are the variables other libraries read (``AWS_*``,
``DAGSTER_HOME``, ``DAGSTER_PG_*``), which ``load_env_file`` puts into the environment at every entry point.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from dotenv import load_dotenv
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE = ".env"  # in the working directory, as pydantic-settings reads it for Settings


def load_env_file(path: str | Path = ENV_FILE) -> bool:
    """Put every variable of ``.env`` into ``os.environ`` unless already exported (the environment wins,
    as it does for ``Settings``): boto3 (``AWS_*``) and Dagster (``DAGSTER_HOME``, ``DAGSTER_PG_*``) read
    the environment only. Returns whether the file was there."""
    return load_dotenv(path, override=False) if Path(path).is_file() else False


class Settings(BaseSettings):
    # env_ignore_empty: `TIMETABLE_BLOB_DIR=` (as in .env.example) means "default", not Path("").
    model_config = SettingsConfigDict(env_prefix="TIMETABLE_", env_file=ENV_FILE, extra="ignore", env_ignore_empty=True)

    # --- general
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    log_json: bool = True

    # --- extraction
    mode: Literal["hybrid", "document_ai", "fallback"] = "hybrid"
    fallback_threshold: float = Field(0.85, ge=0, le=1, description="fallback mode runs the interpreter under this confidence")
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pages: int = 40
    max_pixels: int = 60_000_000
    layout_backend: Literal["embedded", "documentai"] = "embedded"
    interpreter_backend: Literal["embedded", "claude"] = "embedded"
    ocr_languages: str = "eng+deu+fra+spa+ita+nld+por"
    # a re-run interprets the layout its upload's last run stored, when read by the same readers (extraction/layout_reuse.py)
    layout_reuse: bool = True

    # --- Google Document AI
    documentai_project: str | None = None
    documentai_location: str = "us"
    documentai_processor_id: str | None = None
    documentai_processor_version: str | None = None
    documentai_endpoint: str | None = None  # override, e.g. http://127.0.0.1:PORT in tests
    documentai_sync_page_limit: int = 15
    documentai_max_retries: int = 3
    documentai_retry_initial_seconds: float = Field(1.0, gt=0, description="first delay of the retry backoff")
    documentai_timeout_seconds: float = 120.0

    # --- Anthropic Claude
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    claude_model: str = "claude-sonnet-4-5"
    claude_max_tokens: int = 16000
    claude_max_retries: int = 3
    claude_timeout_seconds: float = 120.0

    # --- database
    database_url: str | None = None  # default: sqlite file under data_dir
    # API submissions committed in batches by one writer thread per worker (store/intake_writer.py);
    # false: one transaction per request (kept to measure against, see bench/api_throughput.py)
    intake_group_commit: bool = True

    # --- blob store
    blob_backend: Literal["local", "s3"] = "local"
    blob_dir: Path | None = None  # default: data_dir / "blobs"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_region: str | None = None
    s3_endpoint_url: str | None = None
    s3_sse: Literal["", "AES256", "aws:kms"] = ""
    s3_kms_key_id: str | None = None

    # --- queue
    queue_backend: Literal["database", "sqs"] = "database"
    sqs_queue_url: str | None = None
    sqs_dlq_url: str | None = None
    sqs_region: str | None = None
    sqs_endpoint_url: str | None = None
    queue_visibility_timeout: int = 300
    queue_max_receives: int = 5

    # --- API
    redis_url: str | None = None
    rate_limit_per_minute: int = 600
    failed_auth_per_minute: int = Field(
        20, ge=1, description="failed authentications (bad key or share link) allowed per client address"
    )
    body_idle_timeout_seconds: float = Field(
        15.0, gt=0, description="a request body that sends nothing for this long is cut off (408)"
    )
    body_timeout_seconds: float = Field(
        300.0, gt=0, description="a request body must have arrived in full within this time (408)"
    )
    cors_origins: list[str] = Field(default_factory=list)
    dagster_ui_url: str | None = None
    # The API's address as browsers reach it (behind a proxy or load balancer); share links start with it.
    public_url: str | None = None
    retention_days: int = 90
    callback_timeout_seconds: float = 10.0
    callback_max_attempts: int = 5
    callback_allow_private_networks: bool = False  # True only where receivers run on localhost/private nets
    api_key_cache_seconds: float = Field(30.0, ge=0, description="how long a checked key is trusted without a database read")
    api_key_revocation_poll_seconds: float = Field(
        2.0, gt=0, description="how often an API process checks for revoked keys (revocation reaches it within this)"
    )
    view_low_confidence: float = Field(0.6, ge=0, le=1, description="week view outlines entries under this confidence")
    # ../shared/eval/score.py beside the checkout unless set: what extraction_quality scores with
    scorer_path: Path | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'timetable.db').resolve()}"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
