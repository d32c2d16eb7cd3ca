-- wrk load for the broker's ingress: one CloudEvent per request, each with
-- a new id (duplicates would not be written again). Binary mode by default,
-- structured with an argument:
--   wrk -t1 -c256 -d10s -s broker/testdata/wrk-ingress.lua http://127.0.0.1:8080 [-- structured]
-- Every 202 is an event durable on the log; wrk counts any other status as
-- "Non-2xx or 3xx responses".
--
-- Ids are "<run>-<thread>-<n>", <run> a random UUID of this wrk run: a run
-- that sent the ids of an earlier one within the broker's duplicate window
-- would be answered from that window, with nothing written.
local function newRun()
  local f = assert(io.open("/proc/sys/kernel/random/uuid", "r"))
  local run = f:read("*l")
  f:close()
  return run
end

local run = newRun()
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", run .. "-" .. threads)
end

local structured = false
function init(args)
  structured = args[1] == "structured"
end

local data = '{"customer":"c-1","tickets":2}'
local n = 0
function request()
  n = n + 1
  local id = tid .. "-" .. n
  if structured then
    return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/cloudevents+json"},
      '{"specversion":"1.0","id":"' .. id .. '","source":"/bench","type":"bench.event",' ..
      '"datacontenttype":"application/json","data":' .. data .. '}')
  end
  return wrk.format("POST", "/v1/events", {
    ["Ce-Specversion"] = "1.0",
    ["Ce-Id"] = id,
    ["Ce-Source"] = "/bench",
    ["Ce-Type"] = "bench.event",
    ["Content-Type"] = "application/json",
  }, data)
end
