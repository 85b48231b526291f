-- Finalizers that run while the runtime closes may still arm timers and
-- sleeps: the runtime frees what they made (LeakSanitizer checks it in
-- the sanitizer build), and the program ends normally.
local loop = asyncio.new_event_loop()
local keep = setmetatable({}, { __gc = function()
  loop:call_later(5, print)
  asyncio.sleep(5):add_done_callback(print)
  io.write("finalizer ran\n")
end })
print("main done")
