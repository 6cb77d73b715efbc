-- wrk script of bench/load.sh: rotates over a list of requests and, on
-- demand, checks every body. Usage:
--
--   wrk -t2 -c100 -d15s --latency -s bench/load.lua http://127.0.0.1:PORT \
--       -- MODE FILE [check]
--
--   MODE get    FILE: one request a line, "PATH" or "PATH<TAB>COOKIE"
--               (a player's page with that player's session cookie)
--   MODE login  FILE: one form body a line (name=…&pin=…), POSTed to
--               /api/login; counts successes (a 303 whose Location is not
--               /login/…) and failures
--   check       every 200 body must end with </html> (wrk sends no
--               Accept-Encoding, so bodies are plain HTML); a body that does
--               not is counted as torn
--
-- Each thread starts at a different line. done() prints one machine-readable
-- line, "RESULT key=value …", that bench/load.sh parses.

local threads = {}
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    mode = args[1]
    local file = args[2]
    check = args[3] == "check"
    reqs = {}
    for line in io.lines(file) do
        if line ~= "" then
            if mode == "login" then
                reqs[#reqs + 1] = wrk.format("POST", "/api/login", {
                    ["Content-Type"] = "application/x-www-form-urlencoded",
                }, line)
            else
                local path, cookie = line:match("^([^\t]+)\t(.+)$")
                if path then
                    reqs[#reqs + 1] = wrk.format("GET", path, { Cookie = cookie })
                else
                    reqs[#reqs + 1] = wrk.format("GET", line)
                end
            end
        end
    end
    if #reqs == 0 then
        error("no requests in " .. file)
    end
    -- Threads start far apart in the list.
    i = (id * math.floor(#reqs / 2 + 1)) % #reqs
    torn = 0
    checked = 0
    logins_ok = 0
    logins_failed = 0
end

function request()
    i = i + 1
    if i > #reqs then
        i = 1
    end
    return reqs[i]
end

function response(status, headers, body)
    if mode == "login" then
        local location = headers["Location"] or headers["location"] or ""
        if status == 303 and location:sub(1, 7) ~= "/login/" then
            logins_ok = logins_ok + 1
        else
            logins_failed = logins_failed + 1
        end
    elseif check and status == 200 then
        checked = checked + 1
        local tail = body:sub(-32)
        if not tail:find("</html>%s*$") then
            torn = torn + 1
        end
    end
end

function done(summary, latency, requests)
    local t, c, ok, failed = 0, 0, 0, 0
    for _, thread in ipairs(threads) do
        t = t + (thread:get("torn") or 0)
        c = c + (thread:get("checked") or 0)
        ok = ok + (thread:get("logins_ok") or 0)
        failed = failed + (thread:get("logins_failed") or 0)
    end
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d " ..
        "status=%d connect=%d read=%d write=%d timeout=%d torn=%d checked=%d " ..
        "logins_ok=%d logins_failed=%d\n",
        summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency.max,
        e.status, e.connect, e.read, e.write, e.timeout, t, c, ok, failed))
end
