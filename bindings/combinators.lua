-- combinators.lua -- asyncio.wait, as_completed and shield (loaded on
-- first use, bindings/asyncio.lua), ported from CPython's asyncio/tasks.py.
local asyncio = require "asyncio"
local async, await, Future, Error = asyncio.async, asyncio.await, asyncio.Future, asyncio.Error
local ensure_future, get_running_loop = asyncio.ensure_future, asyncio.get_running_loop
local ipairs, pairs, tostring = ipairs, pairs, tostring

local M = {}

M.FIRST_COMPLETED = "FIRST_COMPLETED"
M.FIRST_EXCEPTION = "FIRST_EXCEPTION"
M.ALL_COMPLETED = "ALL_COMPLETED"

-- wait(aws [, {timeout=, return_when=}]) -> done, pending
M.wait = async(function(aws, opts)
  opts = opts or {}
  local return_when = opts.return_when or "ALL_COMPLETED"
  if return_when ~= "FIRST_COMPLETED" and return_when ~= "FIRST_EXCEPTION"
     and return_when ~= "ALL_COMPLETED" then
    error(Error("ValueError", "Invalid return_when value: " .. tostring(return_when)), 0)
  end
  local futs, seen = {}, {}
  for i = 1, (aws.n or #aws) do
    local f = ensure_future(aws[i])
    if not seen[f] then seen[f] = true; futs[#futs + 1] = f end
  end
  if #futs == 0 then error(Error("ValueError", "Set of Tasks/Futures is empty."), 0) end
  local waiter = Future()
  local handle
  if opts.timeout then
    handle = get_running_loop():call_later(opts.timeout, function() waiter:_wake() end)
  end
  local counter = #futs
  local function on_completion(f)
    counter = counter - 1
    if counter <= 0 or return_when == "FIRST_COMPLETED" or
       (return_when == "FIRST_EXCEPTION" and not f:cancelled() and f:exception() ~= nil) then
      if handle then handle:cancel() end
      waiter:_wake()              -- retried if out of memory
    end
  end
  for _, f in ipairs(futs) do f:add_done_callback(on_completion) end
  local ok, err = pcall(await, waiter)
  if handle then handle:cancel() end
  for _, f in ipairs(futs) do f:remove_done_callback(on_completion) end
  if not ok then error(err, 0) end
  local done, pending = {}, {}
  for _, f in ipairs(futs) do
    if f:done() then done[#done + 1] = f else pending[#pending + 1] = f end
  end
  return done, pending
end, "wait")

-- as_completed(aws [, {timeout=}]): for aw in as_completed(aws) do
-- local r = aw:await() end, in completion order.
function M.as_completed(aws, opts)
  local timeout = opts and opts.timeout
  local todo, ntodo = {}, 0
  local done, head, tail = {}, 1, 0   -- completed futures (false: timed out)
  local waiter
  local function push(v)
    tail = tail + 1
    done[tail] = v
    if waiter then waiter:_wake() end
  end
  local handle
  local function on_completion(f)
    if not todo[f] then return end
    todo[f] = nil
    ntodo = ntodo - 1
    push(f)
    if ntodo == 0 and handle then handle:cancel() end
  end
  local total = 0
  for i = 1, (aws.n or #aws) do
    local f = ensure_future(aws[i])
    if not todo[f] then todo[f] = true; ntodo = ntodo + 1; total = total + 1 end
  end
  -- Room for every completion (at most one each, a future or a timeout)
  -- before any comes: push() then stores into the array part and cannot
  -- run out of memory half-way, in a done callback, losing a completion.
  for i = 1, total do done[i] = false end
  for i = 1, total do done[i] = nil end
  for f in pairs(todo) do f:add_done_callback(on_completion) end
  if ntodo > 0 and timeout then
    handle = get_running_loop():call_later(timeout, function()
      for f in pairs(todo) do
        f:remove_done_callback(on_completion)
        push(false)
      end
      todo, ntodo = {}, 0
    end)
  end
  local wait_for_one = async(function()
    while head > tail do
      waiter = Future()
      await(waiter)
    end
    local f = done[head]
    done[head] = nil
    head = head + 1
    if f == false then error(Error("TimeoutError", ""), 0) end
    return f:result()
  end, "as_completed")
  local yielded = 0
  return function()
    if yielded >= total then return nil end
    yielded = yielded + 1
    return wait_for_one()
  end
end

-- shield(aw): an awaitable that cancelling does not pass on to aw.
function M.shield(aw)
  local inner = ensure_future(aw)
  if inner:done() then return inner end
  local outer = Future()
  local function inner_done(f)
    if outer:cancelled() then
      if not f:cancelled() then f:exception() end
      return
    end
    if f:cancelled() then
      outer:cancel()
    elseif f:exception() ~= nil then
      outer:_set_exception_from(f)
    else
      outer:set_result(f:result())
    end
  end
  inner:add_done_callback(inner_done)
  outer:add_done_callback(function()
    if not inner:done() then inner:remove_done_callback(inner_done) end
  end)
  return outer
end

return M
