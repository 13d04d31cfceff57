-- wrk script for bench/api_http.py: Bearer token, unique ticket bodies, status checks, and
-- the figures as one JSON line.
--
--   BENCH_TOKEN=sd_... BENCH_MODE=get  wrk -t1 -c4 -d20s -s bench/wrk/api.lua URL
--   BENCH_TOKEN=sd_... BENCH_MODE=post_ticket BENCH_TAG=run1 wrk -t1 -c8 -d20s -s ... URL
--
-- BENCH_MODE: "get" (GET the URL, with the token if BENCH_TOKEN is set) or "post_ticket"
-- (POST a new ticket to the URL: a unique subject and a unique requester address per
-- request, tagged with BENCH_TAG so runs never collide). Every response whose status is not
-- 2xx is counted (wrk itself only counts >= 400); the first one's status and body are kept.
-- done() prints one line "BENCH_JSON {...}" with requests, duration, latency percentiles
-- (microseconds), socket errors and the non-2xx count.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("thread_id", #threads + 1)
   table.insert(threads, thread)
end

local mode = os.getenv("BENCH_MODE") or "get"
local token = os.getenv("BENCH_TOKEN") or ""
local tag = os.getenv("BENCH_TAG") or "bench"
local prefix

non_2xx = 0
first_status = 0
first_body = ""

function init(args)
   prefix = tag .. "-t" .. tostring(thread_id or 1)
   if token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
   if mode == "post_ticket" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
   end
end

function request()
   if mode ~= "post_ticket" then
      return wrk.format()
   end
   local n = counter
   counter = counter + 1
   local body = string.format(
      '{"subject": "Outlook add-in does not sync contacts (%s-%d)", '
         .. '"description": "Since this morning the contact sync stops half-way and the log '
         .. 'shows a timeout. Three users in the sales team see the same error.", '
         .. '"requester_email": "customer-%s-%d@customers.example", '
         .. '"urgency": 2, "impact": 3}',
      prefix, n, prefix, n)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
      if first_status == 0 then
         first_status = status
         first_body = string.sub(body or "", 1, 600)
      end
   end
end

local function quote(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local bad, status, body = 0, 0, ""
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non_2xx") or 0)
      if status == 0 and (thread:get("first_status") or 0) ~= 0 then
         status = thread:get("first_status")
         body = thread:get("first_body") or ""
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, '
         .. '"timeouts": %d, "status_errors": %d, "non_2xx": %d, '
         .. '"first_bad_status": %d, "first_bad_body": %s}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(95), latency:percentile(99),
      latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, e.status, bad, status, quote(body)))
end
