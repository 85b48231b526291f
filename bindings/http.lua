-- http.lua -- asyncio.http (require "asyncio.http"): an aiohttp/httpx-like
-- HTTP client on libcurl's multi interface (the C half is aiolua.http,
-- bindings/http.c).  Requests are awaitables (coroutine objects of
-- asyncio.async functions) that start their transfer when awaited.  A
-- Client is a connection pool with default headers and options; the
-- module-level functions share one default Client, so connections are reused.
local asyncio = require "asyncio"
local C = require "aiolua.http"

local async, Error = asyncio.async, asyncio.Error
local type, pairs, next, tostring, error = type, pairs, next, tostring, error
local setmetatable, lower, upper = setmetatable, string.lower, string.upper
local tointeger = math.tointeger
local concat = table.concat

local http = {
  urljoin = C.urljoin,
  urlparse = C.urlparse,
  curl_version = C.curl_version,
  -- error types, for t.raises / asyncio.iserror; ClientError is every one
  -- but TimeoutError, as aiohttp's
  ClientError = "ClientError",
  ConnectionError = "ConnectionError",
  HTTPStatusError = "HTTPStatusError",
  TooManyRedirects = "TooManyRedirects",
  InvalidURL = "InvalidURL",
  ResponseTooLarge = "ResponseTooLarge",
  TimeoutError = "TimeoutError",
}

-- Reason phrases for servers that send none (HTTP/2 never does).
local REASONS = {
  [100] = "Continue", [101] = "Switching Protocols", [103] = "Early Hints",
  [200] = "OK", [201] = "Created", [202] = "Accepted",
  [203] = "Non-Authoritative Information", [204] = "No Content",
  [205] = "Reset Content", [206] = "Partial Content",
  [300] = "Multiple Choices", [301] = "Moved Permanently", [302] = "Found",
  [303] = "See Other", [304] = "Not Modified", [307] = "Temporary Redirect",
  [308] = "Permanent Redirect", [400] = "Bad Request", [401] = "Unauthorized",
  [402] = "Payment Required", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [406] = "Not Acceptable",
  [407] = "Proxy Authentication Required", [408] = "Request Timeout",
  [409] = "Conflict", [410] = "Gone", [411] = "Length Required",
  [412] = "Precondition Failed", [413] = "Content Too Large",
  [414] = "URI Too Long", [415] = "Unsupported Media Type",
  [416] = "Range Not Satisfiable", [417] = "Expectation Failed",
  [418] = "I'm a Teapot", [421] = "Misdirected Request",
  [422] = "Unprocessable Content", [425] = "Too Early",
  [426] = "Upgrade Required", [428] = "Precondition Required",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [451] = "Unavailable For Legal Reasons", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
  [505] = "HTTP Version Not Supported", [511] = "Network Authentication Required",
}
http.REASONS = REASONS

-- Options a request accepts, and those a Client adds.
local REQUEST_OPTS = {
  headers = true, body = true, timeout = true, connect_timeout = true,
  follow_redirects = true, max_redirects = true, max_body = true,
  verify = true, proxy = true, method = true, params = true, json = true,
  data = true, auth = true, files = true, raise_for_status = true,
}
local CLIENT_OPTS = { max_connections = true, max_per_host = true,
                      base_url = true, cookies = true }
for k in pairs(REQUEST_OPTS) do CLIENT_OPTS[k] = true end
CLIENT_OPTS.body, CLIENT_OPTS.method, CLIENT_OPTS.params = nil, nil, nil
CLIENT_OPTS.json, CLIENT_OPTS.data = nil, nil

local function check_opts(opts, known, level)
  if opts == nil then return end
  if type(opts) ~= "table" then
    error("options must be a table, got " .. type(opts), level + 1)
  end
  for k in pairs(opts) do
    if not known[k] then
      error("unknown option '" .. tostring(k) .. "'", level + 1)
    end
  end
end

-- The request method, upper-cased: an RFC 9110 token (as a header name),
-- so nothing else can reach the request line.
local function check_method(method, level)
  if type(method) ~= "string" or not method:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
    local shown = string.format("%q", tostring(method)):gsub("\\\n", "\\n")
    error("invalid method " .. shown, level + 1)
  end
  return upper(method)
end

-- The n of iter_chunks([n]): nil or a positive integer.
local function check_chunk_size(n, level)
  if n == nil then return nil end
  local k = type(n) == "number" and tointeger(n)
  if not k or k < 1 then
    error("chunk size must be a positive integer, got " .. tostring(n),
          level + 1)
  end
  return k
end

-- ---- headers -------------------------------------------------------------

-- The curl header line for name = v: "Name: v", "Name;" (empty value) or,
-- for v == false, "Name:" (which also drops a header curl would add).
local function header_line(name, v)
  if type(name) ~= "string" or not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
    error("invalid header name " .. tostring(name), 4)
  end
  if v == false then return name .. ":" end
  local tv = type(v)
  if tv ~= "string" and tv ~= "number" then
    error("header " .. name .. " must be a string, got " .. tv, 4)
  end
  v = tostring(v)
  if v:find("[\r\n]") then error("header " .. name .. " contains a newline", 4) end
  if v == "" then return name .. ";" end
  return name .. ": " .. v
end

-- Lines for the union of two name -> value tables; names in `extra`
-- override those in `defaults` whatever their case.
local function header_lines(defaults, extra)
  local lines, seen = {}, {}
  if extra then
    for name, v in pairs(extra) do
      seen[lower(name)] = true
      lines[#lines + 1] = header_line(name, v)
    end
  end
  if defaults then
    for name, v in pairs(defaults) do
      if not seen[lower(name)] then lines[#lines + 1] = header_line(name, v) end
    end
  end
  return lines
end

-- ---- query strings and bodies -------------------------------------------

-- Percent-encodes all but RFC 3986's unreserved characters.
local function quote(v)
  return (string.gsub(v, "[^%w%-._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- "k=v&k2=v2" (application/x-www-form-urlencoded, spaces as %20) from a
-- table of name -> value, keys sorted; a list value repeats its key.
local function urlencode(t, what, level)
  if type(t) ~= "table" then
    error(what .. " must be a table, got " .. type(t), level + 1)
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" and type(k) ~= "number" then
      error(what .. ": a key must be a string, got " .. type(k), level + 1)
    end
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  local parts = {}
  local function add(k, v)
    local tv = type(v)
    if tv == "boolean" then v = tostring(v)
    elseif tv ~= "string" and tv ~= "number" then
      error(what .. ": the value of " .. k .. " must be a string, got " .. tv,
            level + 2)
    end
    parts[#parts + 1] = quote(k) .. "=" .. quote(tostring(v))
  end
  for _, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    if type(v) == "table" then
      for _, x in ipairs(v) do add(k, x) end
    else
      add(k, v)
    end
  end
  return table.concat(parts, "&")
end
http.urlencode = function(t) return urlencode(t, "urlencode", 2) end

-- RFC 4648 base64.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = string.byte(s, i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = string.format("%s%s%s%s",
      B64:sub((n >> 18) + 1, (n >> 18) + 1), B64:sub(((n >> 12) & 63) + 1, ((n >> 12) & 63) + 1),
      b and B64:sub(((n >> 6) & 63) + 1, ((n >> 6) & 63) + 1) or "=",
      c and B64:sub((n & 63) + 1, (n & 63) + 1) or "=")
  end
  return table.concat(out)
end
http.base64 = base64

-- The Authorization header of auth = {user, password} (HTTP Basic, as
-- aiohttp's BasicAuth and httpx's auth=(user, password)).
local function basic_auth(auth, level)
  local user, password
  if type(auth) == "table" then
    user, password = auth[1] or auth.login or auth.user, auth[2] or auth.password
  end
  if type(user) ~= "string" or (password ~= nil and type(password) ~= "string") then
    error("auth must be {user, password} (strings)", level + 1)
  end
  if user:find(":", 1, true) then
    error("a user name cannot contain ':' (HTTP Basic)", level + 1)
  end
  return "Basic " .. base64(user .. ":" .. (password or ""))
end

-- The JSON module, loaded on the first request that needs it.
local json_mod
local function json() json_mod = json_mod or require "asyncio.json"; return json_mod end

-- A multipart/form-data body (RFC 7578) of the fields of data (a table:
-- text parts) and files (name -> content string, or {content =,
-- filename =, content_type =}), names sorted; -> body, Content-Type.  The
-- boundary is random and checked against every part.
local function quote_param(s)       -- as browsers write a name or filename
  return (s:gsub('[\r\n"]', { ["\r"] = "%0D", ["\n"] = "%0A", ['"'] = "%22" }))
end

local function multipart(data, files, level)
  if data ~= nil and type(data) ~= "table" then
    error("data must be a table when files are given", level + 1)
  end
  if type(files) ~= "table" then error("files must be a table", level + 1) end
  local parts = {}
  local function add(name, head, content)
    if type(name) ~= "string" then
      error("form field names must be strings, got " .. type(name), level + 2)
    end
    parts[#parts + 1] = { name = name, head = head, content = content }
  end
  for name, v in pairs(data or {}) do
    if type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean" then
      error(("data field %q: a string, number or boolean, got %s")
            :format(tostring(name), type(v)), level + 1)
    end
    add(name, ('Content-Disposition: form-data; name="%s"'):format(quote_param(tostring(name))),
        tostring(v))
  end
  for name, f in pairs(files) do
    if type(f) == "string" then f = { content = f } end
    if type(f) ~= "table" or type(f.content) ~= "string" then
      error(("files[%q] must be a string or {content = s [, filename =, content_type =]}")
            :format(tostring(name)), level + 1)
    end
    local fname = f.filename or (type(name) == "string" and name) or "file"
    local ctype = f.content_type or "application/octet-stream"
    if type(fname) ~= "string" or type(ctype) ~= "string" or ctype:find("[\r\n]") then
      error(("files[%q]: filename and content_type must be strings"):format(tostring(name)),
            level + 1)
    end
    add(name, ('Content-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s')
        :format(quote_param(tostring(name)), quote_param(fname), ctype), f.content)
  end
  table.sort(parts, function(a, b) return a.name < b.name end)
  local boundary
  repeat
    boundary = ("aiolua-%08x%08x%08x"):format(math.random(0, 0x7fffffff),
      math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    local clash = false
    for _, p in ipairs(parts) do
      if p.content:find(boundary, 1, true) then clash = true break end
    end
  until not clash
  local out = {}
  for _, p in ipairs(parts) do
    out[#out + 1] = "--" .. boundary .. "\r\n" .. p.head .. "\r\n\r\n"
    out[#out + 1] = p.content
    out[#out + 1] = "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return concat(out), "multipart/form-data; boundary=" .. boundary
end

-- url, headers, body of a request with params, json, data or files: the
-- query appended to url; the body encoded, with its Content-Type unless
-- given.
local function encode_request(url, opts, headers, level)
  if opts.params ~= nil then
    local q = urlencode(opts.params, "params", level + 1)
    if q ~= "" then
      local base, frag = url:match("^([^#]*)(#.*)$")
      base, frag = base or url, frag or ""
      url = base .. (base:find("?", 1, true) and "&" or "?") .. q .. frag
    end
  end
  local body, ctype = opts.body, nil
  local given = (opts.body ~= nil and 1 or 0) + (opts.json ~= nil and 1 or 0)
                + (opts.data ~= nil and 1 or 0)
  if given > 1 then error("body, json and data exclude each other", level + 1) end
  if opts.files ~= nil and (opts.body ~= nil or opts.json ~= nil) then
    error("files go with data, not with body or json", level + 1)
  end
  if opts.json ~= nil then
    local ok, text = pcall(json().encode, opts.json)
    if not ok then error(text, level + 1) end
    body, ctype = text, "application/json"
  elseif opts.files ~= nil then
    body, ctype = multipart(opts.data, opts.files, level + 1)
  elseif opts.data ~= nil then
    if type(opts.data) == "string" then
      body = opts.data
    else
      body, ctype = urlencode(opts.data, "data", level + 1),
                    "application/x-www-form-urlencoded"
    end
  end
  if ctype then
    local has = false
    for name in pairs(headers or {}) do
      if lower(name) == "content-type" then has = true end
    end
    if not has then
      local h = {}
      for k, v in pairs(headers or {}) do h[k] = v end
      h["Content-Type"] = ctype
      headers = h
    end
  end
  return url, headers, body
end

-- ---- Response ------------------------------------------------------------

local Response = {}
http.Response = Response

-- headers, reason and http_version are parsed from the raw head (_head)
-- the first time one of them is read: most callers never look at them.
local LAZY = { headers = true, reason = true, http_version = true }
local parse_head = C.parse_head

local function lazy_index(methods)
  return function(r, k)
    local m = methods[k]
    if m ~= nil or not LAZY[k] then return m end
    local head = rawget(r, "_head")
    if head == nil then return nil end
    r._head = nil
    local headers, version, reason = parse_head(head)
    if rawget(r, "headers") == nil then r.headers = headers end
    if rawget(r, "http_version") == nil then r.http_version = version end
    if rawget(r, "reason") == nil then
      r.reason = (reason ~= "" and reason) or REASONS[r.status] or ""
    end
    return rawget(r, k)
  end
end
Response.__index = lazy_index(Response)

-- The body as a string (no decoding: Lua strings are bytes).
function Response:text() return self.body end

-- The body decoded as JSON (asyncio.json; JSONDecodeError if it is not).
function Response:json()
  local body = self:text()
  local ok, v = pcall(json().decode, body)
  if not ok then error(v, 2) end
  return v
end

-- Raises HTTPStatusError (with status, url and response) for 4xx and 5xx;
-- returns the response otherwise.
function Response:raise_for_status()
  local st = self.status
  if st >= 400 then
    local kind = st < 500 and "Client error" or "Server error"
    error(Error("HTTPStatusError",
                string.format("%s '%d %s' for url '%s'", kind, st,
                              self.reason or "", self.url),
                { status = st, url = self.url, response = self }), 2)
  end
  return self
end

-- for chunk in resp:iter_chunks([n]) do ... end: the body in pieces of at
-- most n bytes (64 KiB by default).  A stream's iterator awaits each piece.
function Response:iter_chunks(n)
  n = check_chunk_size(n, 2) or 65536
  local body, pos = self.body, 1
  return function()
    if pos > #body then return nil end
    local chunk = body:sub(pos, pos + n - 1)
    pos = pos + n
    return chunk
  end
end

-- An iterator of the lines of the pieces next_piece() returns (nil at the
-- end): each without its "\n" or "\r\n", the last one even without an
-- ending, as httpx's iter_lines.
local function lines_of(next_piece)
  local buf, pos, ended = "", 1, false
  return function()
    while true do
      local i = buf:find("\n", pos, true)
      if i then
        local line = buf:sub(pos, buf:byte(i - 1) == 13 and i - 2 or i - 1)
        pos = i + 1
        return line
      end
      if ended then
        if pos > #buf then return nil end
        local line = buf:sub(pos)
        pos = #buf + 1
        return line
      end
      local piece = next_piece()
      if piece == nil then ended = true
      else buf, pos = buf:sub(pos) .. piece, 1 end
    end
  end
end

-- for line in resp:iter_lines() do ... end
function Response:iter_lines() return lines_of(self:iter_chunks()) end

function Response:__tostring()
  return string.format("<Response [%d %s]>", self.status, self.reason or "")
end

-- A Response whose body is read in chunks (Client:stream): `body` is nil
-- until read() reads it.  Close it, or read to the end, to free the
-- connection; `local r <close> = ...` and breaking out of iter_chunks do.
local StreamResponse = setmetatable({}, { __index = Response })
StreamResponse.__index = lazy_index(StreamResponse)
StreamResponse.__tostring = Response.__tostring
http.StreamResponse = StreamResponse

-- Iterator for a generic `for` inside a task: each step awaits the next
-- piece of body (at most n bytes if n is given); the loop ends at the end
-- of the body, raises the transfer's error (ConnectionError if the stream
-- or its Client is closed meanwhile by another task), and closes the
-- response if left early (it is the loop's closing value).
function StreamResponse:iter_chunks(n)
  local req = self._req
  n = check_chunk_size(n, 2)
  local function step()
    while true do
      local chunk, fut = req:next_chunk(n)
      if chunk ~= false then return chunk end
      fut:await()
    end
  end
  return step, nil, nil, self
end

-- for line in resp:iter_lines() do ... end, as the lines come (each step
-- may await): NDJSON, server-sent events; closes the response if left
-- early, as iter_chunks.
function StreamResponse:iter_lines()
  return lines_of(self:iter_chunks()), nil, nil, self
end

-- Awaitable: the rest of the body as one string (also kept in self.body).
StreamResponse.read = async(function(self)
  local parts = {}
  for chunk in self:iter_chunks() do parts[#parts + 1] = chunk end
  self.body = table.concat(parts)
  return self.body
end)

function StreamResponse:text()
  if self.body == nil then error("read() the body of a stream first", 2) end
  return self.body
end

-- Stops the transfer if it still runs; idempotent.
function StreamResponse:close() self._req:close() end
StreamResponse.__close = StreamResponse.close

-- ---- requests ------------------------------------------------------------

local function pick(opts, self, k)
  local v = opts and opts[k]
  if v == nil then return self[k] end
  return v
end

-- Starts a transfer: returns the Request and the future of its completion
-- (of its headers for a stream).
local function start(self, method, url, opts, stream)
  local cc = self._c
  if cc == nil then error("http client is closed", 3) end
  if type(url) ~= "string" then
    error(Error("InvalidURL", "URL must be a string, got " .. type(url),
                { url = url }), 3)
  end
  local base = self.base_url
  if base and not url:find("^%a[%w+.-]*:") then  -- relative to base_url
    url = C.urljoin(base, url)
  end
  if opts == nil then                   -- the common case, kept short
    return cc:start(method, url, stream, nil, nil, self.timeout,
                    self.connect_timeout, self.follow_redirects,
                    self.max_redirects, self.max_body, self.verify, self.proxy)
  end
  check_opts(opts, REQUEST_OPTS, 3)
  local headers, body = nil, nil
  local extra = opts.headers
  if opts.auth ~= nil then
    local h, given = {}, false
    for k, v in pairs(extra or {}) do
      h[k] = v
      given = given or lower(k) == "authorization"  -- a given one wins
    end
    if not given then h.Authorization = basic_auth(opts.auth, 3) end
    extra = h
  end
  if opts.params ~= nil or opts.json ~= nil or opts.data ~= nil or opts.files ~= nil then
    url, extra, body = encode_request(url, opts, extra, 3)
  else
    body = opts.body
  end
  if extra then headers = header_lines(self._headers, extra) end
  if body ~= nil and type(body) ~= "string" then
    error("body must be a string, got " .. type(body), 3)
  end
  return cc:start(method, url, stream, headers, body,
                  pick(opts, self, "timeout"), pick(opts, self, "connect_timeout"),
                  pick(opts, self, "follow_redirects"),
                  pick(opts, self, "max_redirects"), pick(opts, self, "max_body"),
                  pick(opts, self, "verify"), pick(opts, self, "proxy"))
end

-- The coroutine of a whole request.  The Request is to-be-closed, so a
-- cancelled or failed await leaves no transfer behind.
-- Whether a 4xx or 5xx raises (the request's raise_for_status, else its
-- client's: aiohttp's ClientSession(raise_for_status=True)).
local function raising(self, opts)
  local v = opts and opts.raise_for_status
  if v == nil then v = self.raise_for_status end
  return v
end

local perform = async(function(self, method, url, opts)
  local req <close>, fut = start(self, method, url, opts, false)
  fut:await()
  local r = setmetatable(req:response(), Response)
  if raising(self, opts) then r:raise_for_status() end
  return r
end)

-- Closes the request it holds unless disarmed (guard[1] = nil).
local Guard = { __close = function(g) if g[1] then g[1]:close() end end }

local open_stream = async(function(self, url, opts)
  local method = opts and opts.method or "GET"
  local req, fut = start(self, check_method(method, 2), url, opts, true)
  local guard <close> = setmetatable({ req }, Guard)
  fut:await()
  local r = req:response(true)
  r._req = req
  if raising(self, opts) then Response.raise_for_status(r) end  -- closes it
  guard[1] = nil
  return setmetatable(r, StreamResponse)
end)

-- ---- Client ----------------------------------------------------------------

local Client = {}
Client.__index = Client
http.Client_mt = Client

-- http.Client([opts]): opts are request defaults (headers, auth, timeout,
-- connect_timeout, follow_redirects, max_redirects, max_body, verify,
-- proxy), base_url (relative request URLs are joined to it, as aiohttp's)
-- and the pool limits max_connections and max_per_host (requests beyond
-- them wait for a connection).
function http.Client(opts)
  check_opts(opts, CLIENT_OPTS, 2)
  opts = opts or {}
  local self = setmetatable({
    _c = C.client(opts.max_connections, opts.max_per_host,
                  opts.cookies ~= false),
    _headers = {},
    timeout = opts.timeout,
    connect_timeout = opts.connect_timeout,
    follow_redirects = opts.follow_redirects,
    max_redirects = opts.max_redirects,
    max_body = opts.max_body,
    verify = opts.verify,
    proxy = opts.proxy,
    base_url = opts.base_url,
    raise_for_status = opts.raise_for_status,
  }, Client)
  if opts.base_url ~= nil and type(opts.base_url) ~= "string" then
    error("base_url must be a string", 2)
  end
  if opts.auth ~= nil then self._headers.Authorization = basic_auth(opts.auth, 2) end
  if opts.headers then
    for k, v in pairs(opts.headers) do self._headers[k] = v end
  end
  if next(self._headers) then
    self._c:set_headers(header_lines(nil, self._headers))
  end
  return self
end

-- client:request(method, url [, opts]) -> awaitable Response
function Client:request(method, url, opts)
  return perform(self, check_method(method, 2), url, opts)
end

for _, m in ipairs { "get", "post", "put", "patch", "delete", "head", "options" } do
  local M = upper(m)
  Client[m] = function(self, url, opts) return perform(self, M, url, opts) end
end

-- client:stream(url [, opts]) -> awaitable StreamResponse (opts.method
-- defaults to "GET"); it resolves once the headers are in.
function Client:stream(url, opts) return open_stream(self, url, opts) end

-- Stops every transfer (their awaiters get a ConnectionError) and frees the
-- pool.  Idempotent.
function Client:close()
  local cc = self._c
  if cc then
    self._c = nil
    cc:close()
  end
end
Client.__close = Client.close

function Client:closed() return self._c == nil end

-- Counts of the pool: active requests, idle easy handles, transfers in
-- curl, sockets watched.
-- client:cookies() -> list of the cookies it keeps ({name, value, domain,
-- path, secure, httponly, host_only, expires}); client:set_cookie(line)
-- adds one ("Set-Cookie: a=1; Domain=example.com") or clears them ("ALL").
function Client:cookies()
  if self._c == nil then error("http client is closed", 2) end
  return self._c:cookies()
end

function Client:set_cookie(line)
  if self._c == nil then error("http client is closed", 2) end
  return self._c:set_cookie(line)
end

function Client:stats()
  if self._c == nil then return { closed = true } end
  return self._c:stats()
end

function Client:__tostring()
  return self._c and tostring(self._c) or "http.Client (closed)"
end

-- ---- module-level functions on the default client -------------------------

-- It keeps no cookies: unrelated module-level calls share it, as httpx's
-- module functions share nothing.
local default
function http.default_client()
  if default == nil or default._c == nil then
    default = http.Client { cookies = false }
  end
  return default
end
local default_client = http.default_client

function http.request(method, url, opts)
  return perform(default_client(), check_method(method, 2), url, opts)
end

for _, m in ipairs { "get", "post", "put", "patch", "delete", "head", "options" } do
  local M = upper(m)
  http[m] = function(url, opts) return perform(default_client(), M, url, opts) end
end

function http.stream(url, opts) return open_stream(default_client(), url, opts) end

return http
