-- wrk script for benchmarks/vault_bench.py: one fixed request, every answer checked.
--
--   wrk ... -s vault.lua URL -- METHOD TOKEN STATUS MARKER [HEADER VALUE] [BODY_FILE]
--
-- MARKER "-" checks the status only (a 304 has no body); HEADER "-" sends no extra header.
-- Every "@N@" in the body becomes a value unique to the request (run, thread, counter), so
-- that creates can each take a new slug.
-- done() prints the same "BENCH_JSON {...}" line as bench.lua.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local fixed = nil
local template = nil
local counter = 0
local prefix = ""

function init(args)
   ok, unexpected = 0, 0
   first_unexpected = ""
   wrk.method = args[1]
   wrk.headers["Authorization"] = "Bearer " .. args[2]
   expect_status = tonumber(args[3])
   expect_marker = args[4]
   if args[5] and args[5] ~= "-" then
      wrk.headers[args[5]] = args[6]
   end
   if args[7] then
      local fh = io.open(args[7], "rb")
      wrk.body = fh:read("*a")
      fh:close()
      wrk.headers["Content-Type"] = "application/json"
      if string.find(wrk.body, "@N@", 1, true) then
         template = wrk.body
         prefix = tostring(os.time()) .. "-" .. tostring(id)
      end
   end
   fixed = wrk.format()
end

function request()
   if template then
      counter = counter + 1
      local unique = prefix .. "-" .. tostring(counter)
      return wrk.format(nil, nil, nil, (string.gsub(template, "@N@", unique)))
   end
   return fixed
end

function response(status, headers, body)
   if status == expect_status
      and (expect_marker == "-" or (body and string.find(body, expect_marker, 1, true))) then
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
   local total_ok, total_unexpected, sample = 0, 0, ""
   for _, thread in ipairs(threads) do
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
         .. '"timeouts":%d,"first_unexpected":%s}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, total_ok, total_unexpected,
      e.connect + e.read + e.write, e.timeout, json_string(sample)))
end
