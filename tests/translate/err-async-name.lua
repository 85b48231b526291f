async function a.() end
