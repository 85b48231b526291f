local x = await y
while x end
