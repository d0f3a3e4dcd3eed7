-- wrk: the "realistic" request: 8 headers (with Host), a path param, 3 query params, 100 B body.
wrk.method = "POST"
wrk.path = "/realistic/42?page=2&limit=50&sort=name"
wrk.headers["User-Agent"] = "bench/1.0"
wrk.headers["Accept"] = "application/json"
wrk.headers["Accept-Encoding"] = "gzip, deflate"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Request-Id"] = "8d3b7f0e-1c2a-4b5e-9f00-aa11bb22cc33"
wrk.headers["Authorization"] = "Bearer abcdef0123456789"
wrk.headers["Cookie"] = "session=0123456789abcdef"
wrk.body = '{"items": [1, 2, 3, 4, 5], "note": "' .. string.rep("x", 62) .. '"}'
