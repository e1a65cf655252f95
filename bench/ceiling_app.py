"""The ceiling of this stack: a hello-world Flask app with one JSON GET and one JSON POST,
served under the same gunicorn settings as Kommentera and Isso."""

from __future__ import annotations

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify({"hello": "världen"})


@app.post("/hello")
def echo():
    body = request.get_json()
    return jsonify({"id": 1, "chars": len(body.get("body", ""))}), 201
