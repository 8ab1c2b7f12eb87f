-- POST /api/track bodies whose every event carries a message_id no other request uses, so
-- deduplication never turns the load into a no-op. Set by the runner (bench/loadgen.py):
--   BENCH_BATCH  events per request (1: a bare event object, else a JSON array)
--   BENCH_NONCE  a prefix unique to this run, so the ids of runs never collide
--   BENCH_KEY    the write key; BENCH_TIMESTAMP  the events' ISO-8601 timestamp
-- Each thread counts the events the server acknowledged ("accepted": N in the receipt), and
-- done() prints one line "BENCH_RESULT {json}" for the runner to parse.

local batch = tonumber(os.getenv("BENCH_BATCH") or "100")
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local key = os.getenv("BENCH_KEY") or ""
local timestamp = os.getenv("BENCH_TIMESTAMP") or "2026-01-01T00:00:00.000Z"

local threads = {}
local made = 0

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

-- Each event is ~400 bytes (a batch of 100: a ~40 KB body), kept as the text before and
-- after its message id, so a request only joins strings.
local before, after = {}, {}

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
  for i = 1, batch do
    local user = (i * 7919 + tid * 104729) % 100000
    before[i] = '{"event_name":"signed_in","message_id":"' .. nonce .. '-' .. tid .. '-'
    after[i] = '-' .. i .. '","user_id":"user-' .. string.format("%06d", user) .. '",'
      .. '"timestamp":"' .. timestamp .. '",'
      .. '"properties":{"email":"user' .. user .. '@example.com","user_name":"User ' .. user .. '"},'
      .. '"context":{"group_id":"acct-' .. string.format("%04d", user % 5000) .. '",'
      .. '"ip":"203.0.113.' .. (user % 250) .. '","page":{"path":"/login"},'
      .. '"user_agent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",'
      .. '"library":{"name":"tracklog-bench","version":"1.0"}}}'
  end
  sent = 0
  acked = 0
end

function request()
  sent = sent + 1
  local parts = {}
  for i = 1, batch do
    parts[#parts + 1] = before[i] .. sent .. after[i]
  end
  local body
  if batch == 1 then
    body = parts[1]
  else
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local n = string.match(body, '"accepted":%s*(%d+)')
  if n then
    acked = acked + tonumber(n)
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("acked") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"acked_events":%d,'
      .. '"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,'
      .. '"latency_p50_us":%d,"latency_p90_us":%d,"latency_p99_us":%d,"latency_max_us":%d,'
      .. '"latency_mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, total,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
