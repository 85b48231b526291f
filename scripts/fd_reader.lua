-- fd_reader.lua -- "Watch a file descriptor for read events" of CPython's
-- asyncio documentation (Event Loop, Examples): loop:add_reader calls
-- reader() once the descriptor has data.  A Lua script has no socketpair,
-- so the data comes down a pipe from a shell, half a second later.
local asyncio = require "asyncio"

async function wait_for_data()
  -- Get a reference to the current event loop because
  -- we want to access low-level APIs.
  local loop = asyncio.get_running_loop()

  -- Create a pipe whose other end writes "abc" after 0.5 s.
  local rfile = io.popen("sleep 0.5; echo abc")

  -- Create a new Future object.
  local fut = loop:create_future()

  local function reader()
    local data = rfile:read("l")
    print("Received: " .. data)

    -- We are done: unregister the file descriptor,
    loop:remove_reader(rfile)
    -- and set the result of the future.
    fut:set_result(data)
  end

  -- Register the file descriptor for read event
  loop:add_reader(rfile, reader)

  -- Wait for data
  local data = await fut
  print("Done: " .. data)

  -- Close the pipe
  rfile:close()
end

asyncio.run(wait_for_data)
