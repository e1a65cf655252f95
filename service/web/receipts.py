"""Wires the moderation-receipt signer into the app and hands it to the views."""

from __future__ import annotations

from flask import Flask, current_app

from service.comments.receipts import ReceiptSigner
from service.config import Settings
from service.db import database


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["kommentera.receipts"] = ReceiptSigner(
        settings.secret_key, database(app).writers
    )


def signer() -> ReceiptSigner:
    return current_app.extensions["kommentera.receipts"]
