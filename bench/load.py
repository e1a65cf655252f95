"""The load generator: wrk against 127.0.0.1, bounded by duration, driven by a generated
Lua script that cycles through request bodies (made unique per request) and paths, and
reports requests/s, p50/p99 latency and errors as JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from servers import Server

LUA = r"""
local bodies, paths, runid, counter, threads = {}, {}, "", 0, 0
local method, headers = %(method)s, %(headers)s
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args)
  runid = args[1]
  for line in io.lines(%(paths)s) do paths[#paths + 1] = line end
  %(read_bodies)s
end
function request()
  counter = counter + 1
  local i = counter %% #paths + 1
  local body = nil
  if #bodies > 0 then
    i = counter %% #bodies + 1
    body = (bodies[i]:gsub("@@N@@", runid .. "-" .. tid .. "-" .. counter))
  end
  return wrk.format(method, paths[(i - 1) %% #paths + 1], headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %%d, "duration_us": %%d, "status_errors": %%d, ' ..
    '"socket_errors": %%d, "p50_us": %%d, "p99_us": %%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
UNIQUE = "@@N@@"  # replaced in every body so no two submissions are identical


@dataclass(frozen=True)
class Scenario:
    """One request shape: method, paths (cycled), optional bodies (cycled, aligned with paths
    when there are as many), extra headers."""

    method: str
    paths: list[str]
    bodies: list[str] | None = None
    headers: dict[str, str] | None = None


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _script(scenario: Scenario, workdir: Path) -> Path:
    paths = workdir / "paths.txt"
    paths.write_text("\n".join(scenario.paths) + "\n", encoding="utf-8")
    read_bodies = ""
    if scenario.bodies:
        bodies = workdir / "bodies.txt"
        bodies.write_text("\n".join(scenario.bodies) + "\n", encoding="utf-8")
        read_bodies = (
            f"for line in io.lines({_lua_string(str(bodies))}) do bodies[#bodies + 1] = line end"
        )
    headers = dict(scenario.headers or {})
    if scenario.bodies:
        headers["Content-Type"] = "application/json"
    lua_headers = (
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    )
    script = workdir / "scenario.lua"
    script.write_text(
        LUA
        % {
            "method": _lua_string(scenario.method),
            "headers": lua_headers,
            "paths": _lua_string(str(paths)),
            "read_bodies": read_bodies,
        }
    )
    return script


def measure(server: Server, scenario: Scenario, concurrency: int, seconds: float) -> dict:
    """Run wrk for `seconds` at `concurrency` connections; add server CPU time per request."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="kommentera-bench-") as tmp:
        script = _script(scenario, Path(tmp))
        cpu_before = server.cpu_seconds()
        output = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(concurrency, 2)),
                "-c",
                str(concurrency),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                server.base,
                "--",
                str(time.time_ns()),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
        cpu = server.cpu_seconds() - cpu_before
    raw = json.loads(output.rsplit("RESULT ", 1)[1])
    requests = max(raw["requests"], 1)
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["socket_errors"],
        "cpu_ms_per_request": cpu * 1000 / requests,
    }
