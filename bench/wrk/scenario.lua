-- wrk script for bench/run.py: one request shape per run, results as one JSON line.
--
--   BENCH_MODE=read|write wrk ... -s bench/wrk/scenario.lua URL -- TOKEN [BODY]
--
-- read: every request is GET URL's path with X-Vault-Token: TOKEN (wrk builds
-- it once, so the client spends no Lua per request).
-- write: every request POSTs BODY to a distinct path, URL's path followed by
-- "<thread>-<n>", so no write waits for another on the same secret.
-- done() prints "BENCH-RESULT {...}" with counts and latency percentiles in
-- microseconds, which bench/run.py parses.
--
-- The mode comes from the environment because wrk decides whether a script is
-- static (no request() function) before init() sees the arguments.

local threads = {}
local counter = 0
local base = wrk.path
local body = nil

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["X-Vault-Token"] = args[1] or ""
  body = args[2]
  if body then
    wrk.headers["Content-Type"] = "application/json"
  end
end

if os.getenv("BENCH_MODE") == "write" then
  function request()
    counter = counter + 1
    return wrk.format("POST", base .. id .. "-" .. counter, nil, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
