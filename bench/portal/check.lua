-- Paced infection checks for wrk (Debian's wrk has no -R): each
-- connection waits `pace` ms between requests, so the offered rate is
-- about connections * 1000 / (pace + latency). Each request claims a
-- different seeded source address through X-Forwarded-For (the portal
-- trusts 127.0.0.0/8 in the benchmark), so no result is cached anywhere.
local pace = tonumber(os.getenv("PACE_MS") or "20")
local addrs = tonumber(os.getenv("ADDRS") or "50000")
local i = 0
function delay() return pace end
function request()
  i = (i + 7919) % addrs
  local ip = string.format("198.%d.%d.%d", 18 + math.floor(i / 65536) % 2, math.floor(i / 256) % 256, i % 256)
  return wrk.format("GET", "/api/v1/check", { ["X-Forwarded-For"] = ip })
end
