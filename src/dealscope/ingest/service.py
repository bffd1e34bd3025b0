"""Webhook ingestion inside the API process: the raw event writer and the worker, together."""

from __future__ import annotations

import structlog

from dealscope.config import Settings
from dealscope.errors import ConfigurationError
from dealscope.ingest.raw_store import RawEventWriter
from dealscope.ingest.worker import IngestWorker
from dealscope.kit.crypto import PiiCipher, load_cipher
from dealscope.warehouse.engine import Warehouse

log = structlog.get_logger(__name__)


class WebhookIngest:
    """Started with the API: stored events wake the worker at once; at startup the worker
    takes up whatever a previous process left unprocessed."""

    def __init__(self, warehouse: Warehouse, cipher: PiiCipher) -> None:
        self.writer = RawEventWriter(warehouse)
        self.worker = IngestWorker(warehouse, cipher, busy=self.writer.busy)
        self.writer.on_commit = self.worker.wake

    @classmethod
    def for_settings(cls, settings: Settings, warehouse: Warehouse) -> WebhookIngest:
        """Started with the contact-encryption keys of `settings`; without usable keys the
        API still serves, and deliveries are refused (503) with the reason, never stored
        unencrypted."""
        try:
            cipher = load_cipher(settings)
        except ConfigurationError as exc:
            log.error("webhooks.disabled", reason=str(exc))
            ingest = cls(warehouse, PiiCipher([b"A" * 43 + b"="], b"unused"))
            ingest.writer.refuse(f"webhook ingestion is disabled: {exc}")
            return ingest
        return cls(warehouse, cipher).start()

    def start(self) -> WebhookIngest:
        self.worker.start()
        self.writer.start()
        return self

    def stop(self) -> None:
        """Store what is queued (those requests get their 2xx), then stop the worker."""
        self.writer.stop()
        self.worker.stop()
