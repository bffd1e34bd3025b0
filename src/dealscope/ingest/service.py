"""Webhook ingestion inside the API process: the raw event writer and the worker, together."""

from __future__ import annotations

from dealscope.ingest.raw_store import RawEventWriter
from dealscope.ingest.worker import IngestWorker
from dealscope.kit.crypto import PiiCipher
from dealscope.warehouse.engine import Warehouse


class WebhookIngest:
    """Started with the API: stored events wake the worker at once; at startup the worker
    takes up whatever a previous process left unprocessed."""

    def __init__(self, warehouse: Warehouse, cipher: PiiCipher) -> None:
        self.writer = RawEventWriter(warehouse)
        self.worker = IngestWorker(warehouse, cipher, busy=self.writer.busy)
        self.writer.on_commit = self.worker.wake

    def start(self) -> WebhookIngest:
        self.worker.start()
        self.writer.start()
        return self

    def stop(self) -> None:
        """Store what is queued (those requests get their 2xx), then stop the worker."""
        self.writer.stop()
        self.worker.stop()
