-- wrk script of ops/bench (tests/bench/suite.bench.mjs):
--   wrk ... -s bench.lua URL -- PATH [TOKENS_FILE]
-- GET PATH on every request; with TOKENS_FILE (one app token a line, minted ahead of the
-- run), each request carries the next token of the file, each thread starting elsewhere.
-- done() prints one line "BENCH {json}" with the figures, p99.9 included.
local path = "/"
local tokens = {}
local i = 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  path = args[1] or "/"
  if args[2] then
    for line in io.lines(args[2]) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
  end
  i = ((tid or 1) * 7919) % math.max(#tokens, 1)
end

function request()
  if #tokens == 0 then
    return wrk.format("GET", path)
  end
  i = i % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[i] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,' ..
    '"max_ms":%.3f,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
