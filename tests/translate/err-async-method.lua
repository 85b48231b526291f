async function a:b.c() end
