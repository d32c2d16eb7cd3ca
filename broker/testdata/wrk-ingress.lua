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

-- The request is built by hand, a fixed head and tail around the id, rather
-- than with wrk.format, which makes a header table and formats every line
-- for every request: wrk shares the machine with the node under test, and
-- that cost 1.5-2 µs of its 16-18 µs per request.
local data = '{"customer":"c-1","tickets":2}'
local head, tail
function init(args)
  local host = wrk.headers["Host"] or (wrk.host .. ":" .. wrk.port)
  local start = "POST /v1/events HTTP/1.1\r\nHost: " .. host .. "\r\n"
  if args[1] == "structured" then
    head = start .. "Content-Type: application/cloudevents+json\r\nContent-Length: "
  else
    head = start .. "Ce-Specversion: 1.0\r\nCe-Source: /bench\r\nCe-Type: bench.event\r\n" ..
      "Content-Type: application/json\r\nContent-Length: " .. #data .. "\r\nCe-Id: " .. tid .. "-"
    tail = "\r\n\r\n" .. data
  end
end

local n = 0
function request()
  n = n + 1
  if tail then
    return head .. n .. tail
  end
  local body = '{"specversion":"1.0","id":"' .. tid .. "-" .. n ..
    '","source":"/bench","type":"bench.event","datacontenttype":"application/json","data":' .. data .. '}'
  return head .. #body .. "\r\n\r\n" .. body
end
