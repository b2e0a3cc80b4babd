-- wrk script for the direct path of `make bench` (bench/run.py):
--   wrk -t1 -cN -dS -s check.lua URL -- REQUEST_BODY_FILE EXPECTED_REPLY_FILE
-- POSTs the JSON body and checks every reply: status 200 and the body equal,
-- byte for byte, to the file the upstream serves (a stream: every event up
-- to [DONE]). Prints one line, "WRK_JSON {...}", with the counts and the
-- latency percentiles (microseconds).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  wrk.method = "POST"
  wrk.body = slurp(args[1])
  wrk.headers["Content-Type"] = "application/json"
  expected = slurp(args[2])
  ok, bad_content, bad_status = 0, 0, 0
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif body ~= expected then
    bad_content = bad_content + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local n_ok, n_content, n_status = 0, 0, 0
  for _, thread in ipairs(threads) do
    n_ok = n_ok + thread:get("ok")
    n_content = n_content + thread:get("bad_content")
    n_status = n_status + thread:get("bad_status")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "ok": %d, "bad_content": %d, '
      .. '"bad_status": %d, "errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, "p50": %.1f, '
      .. '"p90": %.1f, "p99": %.1f, "max": %.1f}}\n',
    summary.requests, summary.duration, n_ok, n_content, n_status,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
