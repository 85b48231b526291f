async function 42() end
