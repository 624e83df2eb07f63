"""The baseline for bench/api.py: a bare Flask endpoint returning a small JSON object."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    return jsonify({"id": "bench-app", "owner": "bench", "structure": {}})
