function await() end
