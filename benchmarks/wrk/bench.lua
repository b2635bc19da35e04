-- wrk script for benchmarks/run.py: one scenario per run, chosen by the first argument.
--
--   wrk ... -s bench.lua URL -- get-session TOKEN
--   wrk ... -s bench.lua URL -- device-code
--   wrk ... -s bench.lua URL -- token-slow-down DEVICE_CODE
--   wrk ... -s bench.lua URL -- token-pending CODES_FILE NTHREADS OFFSET
--
-- Every response is checked (status and a marker in the body) and counted; done() prints one
-- line "BENCH_JSON {...}" that run.py reads: requests, duration, latency percentiles in
-- microseconds, socket errors, and how many answers were the expected ones.

local CLIENT_ID = "better-skills-cli"
local GRANT = "urn:ietf:params:oauth:grant-type:device_code"

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function token_body(code)
   return '{"grant_type":"' .. GRANT .. '","device_code":"' .. code
      .. '","client_id":"' .. CLIENT_ID .. '"}'
end

local codes = {}
local cursor = 0
local fixed = nil

function init(args)
   mode = args[1]
   expect_status, expect_marker = 200, nil
   ok, unexpected = 0, 0
   first_unexpected = ""
   if mode == "get-session" then
      wrk.method = "GET"
      wrk.headers["Authorization"] = "Bearer " .. args[2]
      expect_marker = '"session"'
   elseif mode == "device-code" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.body = '{"client_id":"' .. CLIENT_ID .. '","scope":"openid profile email"}'
      expect_marker = '"device_code"'
   elseif mode == "token-slow-down" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.body = token_body(args[2])
      expect_status, expect_marker = 400, '"slow_down"'
   elseif mode == "token-pending" then
      -- Thread i of n takes every n-th code and walks its share in a ring, so each code is
      -- polled once per (codes / request rate) seconds: slower than the poll interval.
      local nthreads = tonumber(args[3])
      local index = 0
      for line in io.lines(args[2]) do
         if index % nthreads == id then
            codes[#codes + 1] = line
         end
         index = index + 1
      end
      -- Each run starts where the previous one stopped (OFFSET polls per thread so far), so
      -- a warm-up does not leave the next run's first codes freshly polled.
      cursor = tonumber(args[4] or "0") % #codes
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      expect_status, expect_marker = 400, '"authorization_pending"'
   else
      error("unknown mode " .. tostring(mode))
   end
   if mode ~= "token-pending" then
      fixed = wrk.format()
   end
end

-- wrk decides once, on the main Lua state, whether request() exists; so it always does,
-- and the fixed scenarios return the one request that init() formatted.
function request()
   if fixed then
      return fixed
   end
   cursor = cursor % #codes + 1
   return wrk.format(nil, nil, nil, token_body(codes[cursor]))
end

function response(status, headers, body)
   if status == expect_status and body and string.find(body, expect_marker, 1, true) then
      ok = ok + 1
   else
      unexpected = unexpected + 1
      if first_unexpected == "" then
         first_unexpected = tostring(status) .. " " .. string.sub(body or "", 1, 200)
      end
   end
end

local function json_string(s)
   return '"' .. string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local total_ok, total_unexpected, sample, busiest = 0, 0, "", 0
   for _, thread in ipairs(threads) do
      local answered = thread:get("ok") + thread:get("unexpected")
      busiest = math.max(busiest, answered)
      total_ok = total_ok + thread:get("ok")
      total_unexpected = total_unexpected + thread:get("unexpected")
      if sample == "" then
         sample = thread:get("first_unexpected")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
         .. '"max_us":%d,"mean_us":%.1f,"ok":%d,"unexpected":%d,"socket_errors":%d,'
         .. '"timeouts":%d,"max_thread_requests":%d,"first_unexpected":%s}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, total_ok, total_unexpected,
      e.connect + e.read + e.write, e.timeout, busiest, json_string(sample)))
end
