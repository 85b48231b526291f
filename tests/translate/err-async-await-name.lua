async function await() end
