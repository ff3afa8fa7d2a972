-- wrk script of bench/http.sh: POSTs one real customer per request, cycling through the bodies
-- in $EBB_HTTP_BODIES (a Lua file returning a table of JSON strings), with the bearer token in
-- $EBB_HTTP_TOKEN, to the path $EBB_HTTP_PATH ($EBB_HTTP_METHOD=GET: no body, for the floor). At the end prints one line
-- `WRKJSON {...}` with exact counts and latency percentiles (microseconds) for report.py.
local bodies = dofile(os.getenv("EBB_HTTP_BODIES"))
local path = os.getenv("EBB_HTTP_PATH") or "/v1/predict"
local method = os.getenv("EBB_HTTP_METHOD") or "POST"
local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (os.getenv("EBB_HTTP_TOKEN") or ""),
}
n = 0  -- global: setup() gives each thread its own start

function setup(thread)
    -- Threads start at different customers.
    thread:set("n", math.random(#bodies))
end

function request()
    n = n + 1
    if method == "GET" then
        return wrk.format("GET", path, headers)
    end
    return wrk.format("POST", path, headers, bodies[(n % #bodies) + 1])
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
        '"max_us":%d,"mean_us":%.1f,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
        '"errors_status":%d,"errors_timeout":%d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write,
        e.status, e.timeout))
end
