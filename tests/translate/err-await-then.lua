if await then end
