"""Wires the moderation-receipt signer into the app and hands it to the views."""

from __future__ import annotations

from flask import Flask

from service.app_state import Slot
from service.comments.receipts import ReceiptSigner
from service.config import Settings
from service.db import database

_SIGNER: Slot[ReceiptSigner] = Slot("kommentera.receipts")


def init_app(app: Flask, settings: Settings) -> None:
    _SIGNER.put(app, ReceiptSigner(settings.secret_key, database(app).writers))


def signer() -> ReceiptSigner:
    return _SIGNER.get()
