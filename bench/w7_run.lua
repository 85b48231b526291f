-- w7_run.lua -- W7b on aiolua: run an empty main task.
asyncio.run(function() end)
