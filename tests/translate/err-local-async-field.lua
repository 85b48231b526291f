local async function a.b() end
